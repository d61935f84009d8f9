"""factory_boy factories; states beyond creation are built through services, never by hand."""

from decimal import Decimal

import factory

from portal.accounts.constants import Role
from portal.accounts.models import Membership, User
from procedures.constants import AgencyKind, FeeKind, FieldKind, ServiceLevel, StepRole
from procedures.models import Agency, FeeItem, Field, FormField, Procedure, ProcessingStep, RequiredDocument

PASSWORD = "mat-khau-thu-nghiem-2026"


class AgencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agency

    name = factory.Sequence(lambda n: f"UBND xã Thử Nghiệm {n}")
    kind = AgencyKind.COMMUNE
    identifier = factory.Sequence(lambda n: f"{n:03d}.00.00.H40")

    class Params:
        province = factory.Trait(kind=AgencyKind.PROVINCE, name="UBND tỉnh Thử Nghiệm", parent=None)


class FieldFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Field
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"LV{n:02d}")
    name = factory.Sequence(lambda n: f"Lĩnh vực {n}")


class ProcedureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Procedure
        skip_postgeneration_save = True

    national_code = factory.Sequence(lambda n: f"1.{900000 + n:06d}")
    name = factory.Sequence(lambda n: f"Thủ tục thử nghiệm {n}")
    field = factory.SubFactory(FieldFactory)
    level = ServiceLevel.FULL
    processing_days = Decimal("3")
    result_type = "Giấy chứng nhận"

    @factory.post_generation
    def agencies(self, create, extracted, **kwargs):
        if create:
            self.agencies.set(extracted or [AgencyFactory()])

    class Params:
        with_content = factory.Trait(
            documents=factory.RelatedFactory("tests.factories.RequiredDocumentFactory", "procedure"),
            form_field=factory.RelatedFactory("tests.factories.FormFieldFactory", "procedure"),
            fee=factory.RelatedFactory("tests.factories.FeeItemFactory", "procedure"),
            step=factory.RelatedFactory("tests.factories.ProcessingStepFactory", "procedure"),
        )


class RequiredDocumentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RequiredDocument

    procedure = factory.SubFactory(ProcedureFactory)
    name = "Tờ khai theo mẫu"
    original_count = 1


class FormFieldFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FormField

    procedure = factory.SubFactory(ProcedureFactory)
    code = factory.Sequence(lambda n: f"truong_{n}")
    label = "Họ và tên"
    kind = FieldKind.TEXT


class FeeItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FeeItem

    procedure = factory.SubFactory(ProcedureFactory)
    kind = FeeKind.CHARGE
    name = "Lệ phí"
    amount = 50000


class ProcessingStepFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProcessingStep

    procedure = factory.SubFactory(ProcedureFactory)
    name = "Thẩm định hồ sơ"
    role = StepRole.SPECIALIST
    duration_days = Decimal("2")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = "Nguyễn Văn An"
    email = factory.Sequence(lambda n: f"user{n}@example.vn")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(self, create, extracted, **kwargs):
        if create:
            self.save()


class OfficerFactory(UserFactory):
    """A staff member with one role in one agency."""

    full_name = "Trần Thị Bình"
    membership = factory.RelatedFactory(
        "tests.factories.MembershipFactory", "user", role=factory.SelfAttribute("..role")
    )

    class Params:
        role = Role.RECEPTION


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    agency = factory.SubFactory(AgencyFactory)
    role = Role.RECEPTION


class DiscountPolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "procedures.DiscountPolicy"

    name = "Giảm 50% lệ phí khi nộp hồ sơ trực tuyến"
    kind = "percent"
    value = 50
    channel = "online"
    valid_from = factory.LazyFunction(lambda: __import__("datetime").date(2026, 1, 1))
    legal_basis = "Nghị quyết số 09/2025/NQ-HĐND của HĐND tỉnh"


class FeeExemptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "procedures.FeeExemption"

    group = "poor_household"
    percent = 100
    proof_required = "Giấy chứng nhận hộ nghèo còn hiệu lực"
    legal_basis = "Luật Phí và lệ phí 2015, Điều 10"
