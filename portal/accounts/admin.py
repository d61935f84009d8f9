from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from portal.admin_scope import AgencyScopedAdminMixin, administered_agency_ids
from procedures.models import Agency

from . import otp
from .constants import Role
from .models import AccountEvent, Membership, User

STAFF_ROLE_CHOICES = [(r.value, r.label) for r in Role if r not in (Role.CITIZEN, Role.SYSTEM_ADMIN)]


def sync_staff_flag(user: User) -> None:
    """Agency administrators enter the admin site; other officers work on the officer pages only."""
    is_staff = user.is_superuser or user.memberships.filter(role=Role.AGENCY_ADMIN).exists()
    if user.is_staff != is_staff:
        User.objects.filter(pk=user.pk).update(is_staff=is_staff)
        user.is_staff = is_staff


class MembershipInline(AgencyScopedAdminMixin, admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["agency"]
    agency_lookup = None

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if self._scoped(request) and not request.user.has_perm("accounts.view_membership"):
            queryset = queryset.filter(agency_id__in=administered_agency_ids(request))
        return queryset

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "agency" and self._scoped(request):
            kwargs["queryset"] = Agency.objects.filter(pk__in=administered_agency_ids(request))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class StaffCreationForm(AdminUserCreationForm):
    """A new officer, created by an agency administrator together with their first assignment."""

    agency = forms.ModelChoiceField(label=_("Cơ quan"), queryset=Agency.objects.none())
    role = forms.ChoiceField(label=_("Vai trò"), choices=STAFF_ROLE_CHOICES)

    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ["username", "full_name", "email"]


@admin.register(User)
class UserAdmin(AgencyScopedAdminMixin, BaseUserAdmin):
    # The list shows the CCCD masked; the full number is on the person's own page (Decree 13/2023).
    list_display = ["username", "full_name", "masked_cccd", "phone", "email", "is_staff", "is_active"]
    list_filter = ["is_staff", "is_superuser", "is_active", "memberships__role", "memberships__agency"]
    search_fields = ["username", "full_name", "cccd", "phone", "email"]
    ordering = ["username"]
    inlines = [MembershipInline]
    actions = ["reset_second_factor"]
    # Agency administrators see the staff of their agencies, never citizens.
    agency_lookup = "memberships__agency"
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        (
            _("Thông tin cá nhân"),
            {
                "fields": [
                    "full_name",
                    "cccd",
                    "date_of_birth",
                    "gender",
                    "phone",
                    "email",
                    "address",
                    "identity_level",
                ]
            },
        ),
        (_("Quyền"), {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        (_("Thời gian"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["username", "full_name", "email", "password1", "password2"]}),
    ]

    def get_inline_instances(self, request, obj=None):
        # On the add page the first assignment is part of the form (agency administrators) or is
        # added afterwards on the change page.
        return super().get_inline_instances(request, obj) if obj is not None else []

    def get_readonly_fields(self, request, obj=None):
        if request.user.is_superuser:
            return super().get_readonly_fields(request, obj)
        return ["is_staff", "is_superuser", "groups", "user_permissions", "last_login", "date_joined"]

    def get_fieldsets(self, request, obj=None):
        if obj is None and self._scoped(request):
            return [
                (
                    None,
                    {
                        "classes": ["wide"],
                        "fields": ["username", "full_name", "email", "agency", "role", "password1", "password2"],
                    },
                )
            ]
        return super().get_fieldsets(request, obj)

    def get_form(self, request, obj=None, **kwargs):
        if obj is None and self._scoped(request):
            kwargs["form"] = StaffCreationForm
            kwargs["fields"] = None
            form = super().get_form(request, obj, **kwargs)
            form.base_fields["agency"].queryset = Agency.objects.filter(pk__in=administered_agency_ids(request))
            return form
        return super().get_form(request, obj, **kwargs)

    @transaction.atomic
    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if isinstance(form, StaffCreationForm):
            Membership.objects.create(user=obj, agency=form.cleaned_data["agency"], role=form.cleaned_data["role"])

    @transaction.atomic
    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        sync_staff_flag(form.instance)

    @admin.display(description=_("số định danh cá nhân"), ordering="cccd")
    def masked_cccd(self, obj):
        from privacy.masking import mask_cccd

        return mask_cccd(obj.cccd) or "—"

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not request.user.is_superuser:
            actions.pop("reset_second_factor", None)
        return actions

    @admin.action(description=_("Đặt lại xác thực hai lớp (đăng ký lại ở lần đăng nhập sau)"))
    def reset_second_factor(self, request, queryset):
        done = 0
        for user in queryset:
            try:
                otp.otp_reset(actor=request.user, user=user)
            except otp.SecondFactorError as exc:
                self.message_user(request, f"{user}: {exc}", messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(request, _("Đã đặt lại xác thực hai lớp cho %(count)d tài khoản.") % {"count": done})


@admin.register(AccountEvent)
class AccountEventAdmin(admin.ModelAdmin):
    """The audit trail of account security changes: read only, for system administrators."""

    list_display = ["created_at", "action", "subject", "actor"]
    list_filter = ["action"]
    list_select_related = ["subject", "actor"]
    raw_id_fields = ["subject", "actor"]

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# django-otp's own device admins would let a device be removed (or its secret read) without the
# audited reset above; the reset action is the only way.
for _model in (otp.TOTPDevice, otp.StaticDevice):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)


@admin.register(Membership)
class MembershipAdmin(AgencyScopedAdminMixin, admin.ModelAdmin):
    list_display = ["user", "agency", "role", "created_at"]
    list_filter = ["role", "agency"]
    search_fields = ["user__username", "user__full_name", "agency__name"]
    autocomplete_fields = ["user", "agency"]
    agency_lookup = "agency"

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "agency" and self._scoped(request):
            kwargs["queryset"] = Agency.objects.filter(pk__in=administered_agency_ids(request))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @transaction.atomic
    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        sync_staff_flag(obj.user)

    @transaction.atomic
    def delete_model(self, request, obj):
        user = obj.user
        super().delete_model(request, obj)
        sync_staff_flag(user)
