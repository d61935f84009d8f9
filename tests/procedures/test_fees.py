"""The fee engine: channel rates, per-page rates with a cap, discounts and exemptions, frozen quotes."""

from __future__ import annotations

import datetime as dt

import pytest

from dossiers import services
from dossiers.models import Dossier
from procedures.constants import FeeChannel
from procedures.fees import fee_quote
from procedures.services import procedure_publish_version, procedure_to_dict, procedures_export, procedures_import
from tests.dossiers import builders
from tests.factories import (
    AgencyFactory,
    DiscountPolicyFactory,
    FeeExemptionFactory,
    FeeItemFactory,
    FormFieldFactory,
    ProcedureFactory,
)

pytestmark = pytest.mark.django_db
DAY = dt.date(2026, 3, 5)


def quote(procedure, channel, answers=None, **kwargs):
    return fee_quote(
        snapshot=procedure_to_dict(procedure),
        procedure=procedure,
        agency=procedure.agencies.first(),
        channel=channel,
        answers=answers or {},
        on=DAY,
        **kwargs,
    )


@pytest.fixture
def residence():
    """Temporary residence: 15,000 đồng at the counter, 7,000 online (Circular 75/2022/TT-BTC)."""
    procedure = ProcedureFactory(name="Đăng ký tạm trú")
    FeeItemFactory(procedure=procedure, name="Lệ phí đăng ký tạm trú", amount=15000, amount_online=7000)
    return procedure


def test_online_quote_applies_the_configured_discount_and_names_its_legal_basis(residence):
    DiscountPolicyFactory(value=50, channel=FeeChannel.ONLINE)
    online = quote(residence, FeeChannel.ONLINE)
    assert (online.base, online.discount, online.total) == (7000, 3500, 3500)
    assert "Nghị quyết số 09/2025/NQ-HĐND của HĐND tỉnh" in online.legal_bases


def test_counter_quote_uses_the_counter_rate_without_the_online_discount(residence):
    DiscountPolicyFactory(value=50, channel=FeeChannel.ONLINE)
    counter = quote(residence, FeeChannel.COUNTER)
    assert (counter.base, counter.discount, counter.total) == (15000, 0, 15000)


def test_certified_copies_are_priced_per_page_up_to_the_cap():
    """2,000 đồng a page for pages 1–2, 1,000 from page 3, at most 200,000 a copy (Circular 226/2016)."""
    procedure = ProcedureFactory(name="Chứng thực bản sao từ bản chính")
    FormFieldFactory(procedure=procedure, code="so_trang", kind="number")
    common = {"procedure": procedure, "unit": "page", "quantity_field": "so_trang"}
    FeeItemFactory(name="Phí chứng thực trang 1–2", amount=2000, quantity_to=2, **common)
    FeeItemFactory(name="Phí chứng thực từ trang 3", amount=1000, quantity_from=3, max_amount=196000, **common)
    assert quote(procedure, "counter", {"so_trang": "1"}).total == 2000
    assert quote(procedure, "counter", {"so_trang": "5"}).total == 2 * 2000 + 3 * 1000
    assert quote(procedure, "counter", {"so_trang": "1000"}).total == 200000


def test_best_for_citizen_policies_compete_and_stacked_ones_apply_after_in_order(residence):
    DiscountPolicyFactory(name="Giảm 20%", value=20, channel="")
    DiscountPolicyFactory(name="Giảm 50% trực tuyến", value=50)
    DiscountPolicyFactory(name="Giảm thêm 1.000 đồng", kind="fixed", value=1000, combination="stacked", channel="")
    online = quote(residence, FeeChannel.ONLINE)
    assert [d["name"] for d in online.lines[0].discounts] == ["Giảm 50% trực tuyến", "Giảm thêm 1.000 đồng"]
    assert online.total == 7000 - 3500 - 1000


def test_a_policy_outside_its_dates_or_for_another_agency_does_not_apply(residence):
    DiscountPolicyFactory(valid_from=dt.date(2026, 4, 1))
    DiscountPolicyFactory(agency=AgencyFactory())
    assert quote(residence, FeeChannel.ONLINE).discount == 0


def test_a_policy_of_a_parent_agency_applies_to_its_communes():
    province = AgencyFactory(province=True, identifier="000.00.00.H56")
    commune = AgencyFactory(parent=province)
    procedure = ProcedureFactory(agencies=[commune])
    FeeItemFactory(procedure=procedure, amount=10000)
    DiscountPolicyFactory(agency=province, channel="")
    assert quote(procedure, FeeChannel.COUNTER).total == 5000


def test_an_exemption_for_a_named_group_frees_the_fee_and_asks_for_its_proof(residence):
    FeeExemptionFactory(procedure=residence)
    exempted = quote(residence, FeeChannel.COUNTER, exemption_group="poor_household")
    assert (exempted.exemption, exempted.total) == (15000, 0)
    assert exempted.exemption_proof == "Giấy chứng nhận hộ nghèo còn hiệu lực"
    assert quote(residence, FeeChannel.COUNTER, exemption_group="elderly").total == 15000


def test_fee_items_apply_only_within_their_effective_dates():
    procedure = ProcedureFactory()
    FeeItemFactory(procedure=procedure, name="Mức cũ", amount=135000, effective_to=dt.date(2025, 12, 31))
    FeeItemFactory(procedure=procedure, name="Mức mới", amount=115000, effective_from=dt.date(2026, 1, 1))
    assert [line.name for line in quote(procedure, "online").lines] == ["Mức mới"]


def test_the_dossier_keeps_its_frozen_quote_when_the_policy_changes_later():
    world = builders.make_world(fee=10000)
    policy = DiscountPolicyFactory(value=50)
    dossier = builders.submitted(world)
    assert dossier.fee_total == 5000
    assert dossier.fee_breakdown["discount"] == 5000
    policy.value = 100
    policy.save()
    DiscountPolicyFactory(name="Chính sách mới", value=90)
    dossier = Dossier.objects.get(pk=dossier.pk)
    assert dossier.fee_total == 5000
    line = dossier.fees.get()
    assert (line.base_amount, line.discount_amount, line.amount) == (10000, 5000, 5000)
    assert "Nghị quyết số 09/2025/NQ-HĐND" in line.legal_basis


def test_a_counter_dossier_is_charged_the_counter_rate(residence):
    world = builders.make_world()
    residence.agencies.set([world.agency])
    DiscountPolicyFactory(value=50)
    dossier = services.dossier_create_at_counter(
        procedure=residence, agency=world.agency, officer=world.reception, applicant={"applicant_name": "Lê Văn A"}
    )
    assert services.dossier_fee_quote(dossier).total == 15000


def test_fee_items_round_trip_through_the_catalogue_json(residence):
    FeeItemFactory(procedure=residence, name="Khác", amount=1000, legal_basis="Thông tư 75/2022/TT-BTC")
    exported = procedures_export()
    residence.fees.all().delete()
    import json

    procedures_import(json.dumps(exported))
    fees = list(residence.fees.order_by("id").values("amount", "amount_online", "legal_basis"))
    assert fees == [
        {"amount": 15000, "amount_online": 7000, "legal_basis": ""},
        {"amount": 1000, "amount_online": None, "legal_basis": "Thông tư 75/2022/TT-BTC"},
    ]


def test_an_old_version_snapshot_without_the_new_fee_keys_still_quotes():
    procedure = ProcedureFactory()
    version = procedure_publish_version(procedure=procedure)
    version.snapshot["fees"] = [{"kind": "le_phi", "name": "Cũ", "amount": 30000, "condition_field": ""}]
    result = fee_quote(snapshot=version.snapshot, procedure=procedure, agency=None, channel="online", on=DAY)
    assert result.total == 30000


def test_policy_that_skips_channel_rates_leaves_a_legal_online_rate_undiscounted(residence):
    """Circular 75/2022's online rate is the incentive already; a council's 50% applies to the rest only."""
    DiscountPolicyFactory(value=50, channel=FeeChannel.ONLINE, skip_channel_rates=True)
    FeeItemFactory(procedure=residence, name="Phí cấp bản sao", amount=10000)
    online = quote(residence, FeeChannel.ONLINE)
    by_name = {line.name: line for line in online.lines}
    assert (by_name["Lệ phí đăng ký tạm trú"].base, by_name["Lệ phí đăng ký tạm trú"].total) == (7000, 7000)
    assert by_name["Lệ phí đăng ký tạm trú"].discounts == []
    assert (by_name["Phí cấp bản sao"].base, by_name["Phí cấp bản sao"].total) == (10000, 5000)
