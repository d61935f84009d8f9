from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from portal.admin_scope import AgencyScopedAdminMixin, administered_agency_ids, managed_users
from procedures.models import Agency

from . import otp
from .constants import Role
from .models import AccountEvent, Membership, User
from .services import AccountAdminError, account_event_record, account_password_reset_send, membership_data

STAFF_ROLE_CHOICES = [(r.value, r.label) for r in Role if r not in (Role.CITIZEN, Role.SYSTEM_ADMIN)]
# What identifies a person and where their reset link goes: only they or a system administrator
# change it, or an agency administrator could redirect the link to themselves.
IDENTITY_FIELDS = ["username", "email", "cccd", "phone"]


def sync_staff_flag(user: User) -> None:
    """Agency administrators enter the admin site; other officers work on the officer pages only."""
    is_staff = user.is_superuser or user.memberships.filter(role=Role.AGENCY_ADMIN).exists()
    if user.is_staff != is_staff:
        User.objects.filter(pk=user.pk).update(is_staff=is_staff)
        user.is_staff = is_staff


def _is_system_admin(request) -> bool:
    """Superusers, or staff given Django's own permission to change accounts."""
    return request.user.is_superuser or request.user.has_perm("accounts.change_user")


def _send_reset(request, user: User) -> bool:
    try:
        account_password_reset_send(
            actor=request.user, subject=user, domain=request.get_host(), use_https=request.is_secure()
        )
    except AccountAdminError as error:
        messages.error(request, str(error))
        return False
    return True


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


class StaffCreationForm(forms.ModelForm):
    """A new officer, created by an agency administrator together with their first assignment.

    No password: the account starts with an unusable one and its owner receives a reset link.
    """

    agency = forms.ModelChoiceField(label=_("Cơ quan"), queryset=Agency.objects.none())
    role = forms.ChoiceField(label=_("Vai trò"), choices=STAFF_ROLE_CHOICES)

    class Meta:
        model = User
        fields = ["username", "full_name", "email"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].required = True
        self.fields["email"].help_text = _("Cán bộ nhận liên kết đặt mật khẩu qua địa chỉ này.")

    def save(self, commit=True):
        user = super().save(commit=False)
        user.set_unusable_password()
        if commit:
            user.save()
        return user


@admin.register(User)
class UserAdmin(AgencyScopedAdminMixin, BaseUserAdmin):
    # The list shows the CCCD masked; the full number is on the person's own page (Decree 13/2023).
    list_display = ["username", "full_name", "masked_cccd", "phone", "email", "is_staff", "is_active"]
    list_filter = ["is_staff", "is_superuser", "is_active", "memberships__role", "memberships__agency"]
    search_fields = ["username", "full_name", "cccd", "phone", "email"]
    ordering = ["username"]
    inlines = [MembershipInline]
    actions = ["send_password_reset", "reset_second_factor"]
    # Agency administrators see only the staff they manage (portal.admin_scope.managed_users).
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

    def get_queryset(self, request):
        queryset = super(AgencyScopedAdminMixin, self).get_queryset(request)
        if self._scoped(request) and not self._model_allowed(request, "view"):
            queryset = queryset.filter(pk__in=managed_users(request).values("pk"))
        return queryset

    def in_scope(self, request, obj) -> bool:
        return obj is None or managed_users(request).filter(pk=obj.pk).exists()

    def get_inline_instances(self, request, obj=None):
        # On the add page the first assignment is part of the form (agency administrators) or is
        # added afterwards on the change page.
        return super().get_inline_instances(request, obj) if obj is not None else []

    def get_readonly_fields(self, request, obj=None):
        if request.user.is_superuser:
            return super().get_readonly_fields(request, obj)
        readonly = ["is_staff", "is_superuser", "groups", "user_permissions", "last_login", "date_joined"]
        return readonly + IDENTITY_FIELDS if obj is not None else readonly

    def get_fieldsets(self, request, obj=None):
        if obj is None and self._scoped(request):
            return [(None, {"classes": ["wide"], "fields": ["username", "full_name", "email", "agency", "role"]})]
        fieldsets = super().get_fieldsets(request, obj)
        if obj is not None and not _is_system_admin(request):
            # Not even the link to the password form: only the owner chooses their password.
            fieldsets = [
                (name, {**options, "fields": [f for f in options["fields"] if f != "password"]})
                for name, options in fieldsets
            ]
        return fieldsets

    def get_form(self, request, obj=None, **kwargs):
        if obj is None and self._scoped(request):
            kwargs["form"] = StaffCreationForm
            kwargs["fields"] = None
            form = super().get_form(request, obj, **kwargs)
            form.base_fields["agency"].queryset = Agency.objects.filter(pk__in=administered_agency_ids(request))
            return form
        return super().get_form(request, obj, **kwargs)

    def user_change_password(self, request, id, form_url=""):
        """Only system administrators set a password for someone else; the rest send a reset link."""
        if not _is_system_admin(request):
            raise PermissionDenied
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:
            subject = User.objects.get(pk=id)
            account_event_record(actor=request.user, subject=subject, action=AccountEvent.Action.PASSWORD_SET)
        return response

    @transaction.atomic
    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change:
            fields = [name for name in form.changed_data if name not in ("password", "password1", "password2")]
            if fields:
                account_event_record(
                    actor=request.user, subject=obj, action=AccountEvent.Action.USER_CHANGED, data={"fields": fields}
                )
            return
        account_event_record(actor=request.user, subject=obj, action=AccountEvent.Action.USER_CREATED)
        if isinstance(form, StaffCreationForm):
            membership = Membership.objects.create(
                user=obj, agency=form.cleaned_data["agency"], role=form.cleaned_data["role"]
            )
            account_event_record(
                actor=request.user,
                subject=obj,
                action=AccountEvent.Action.MEMBERSHIP_ADDED,
                data=membership_data(membership),
            )
            _send_reset(request, obj)
        elif obj.has_usable_password():
            account_event_record(actor=request.user, subject=obj, action=AccountEvent.Action.PASSWORD_SET)

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        if formset.model is not Membership:
            return
        for membership in formset.new_objects:
            account_event_record(
                actor=request.user,
                subject=form.instance,
                action=AccountEvent.Action.MEMBERSHIP_ADDED,
                data=membership_data(membership),
            )
        for membership, fields in formset.changed_objects:
            account_event_record(
                actor=request.user,
                subject=form.instance,
                action=AccountEvent.Action.MEMBERSHIP_CHANGED,
                data={**membership_data(membership), "fields": list(fields)},
            )
        for membership in formset.deleted_objects:
            account_event_record(
                actor=request.user,
                subject=form.instance,
                action=AccountEvent.Action.MEMBERSHIP_REMOVED,
                data=membership_data(membership),
            )

    @transaction.atomic
    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        sync_staff_flag(form.instance)

    @admin.display(description=_("số định danh cá nhân"), ordering="cccd")
    def masked_cccd(self, obj):
        from dossiers.privacy.masking import mask_cccd

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

    @transaction.atomic
    def delete_model(self, request, obj):
        account_event_record(actor=request.user, subject=obj, action=AccountEvent.Action.USER_DELETED)
        super().delete_model(request, obj)

    @transaction.atomic
    def delete_queryset(self, request, queryset):
        for user in queryset:
            account_event_record(actor=request.user, subject=user, action=AccountEvent.Action.USER_DELETED)
        super().delete_queryset(request, queryset)

    @admin.action(description=_("Gửi liên kết đặt lại mật khẩu cho người đã chọn"))
    def send_password_reset(self, request, queryset):
        if not all(self.has_change_permission(request, user) for user in queryset):
            raise PermissionDenied
        sent = sum(_send_reset(request, user) for user in queryset)
        if sent:
            messages.success(
                request,
                ngettext(
                    "Đã gửi liên kết đặt lại mật khẩu tới email của %(count)d người.",
                    "Đã gửi liên kết đặt lại mật khẩu tới email của %(count)d người.",
                    sent,
                )
                % {"count": sent},
            )


@admin.register(AccountEvent)
class AccountEventAdmin(admin.ModelAdmin):
    """The audit trail, read-only for system administrators."""

    list_display = ["created_at", "action", "actor_name", "subject_username"]
    list_filter = ["action"]
    search_fields = ["subject_username", "actor_name"]
    readonly_fields = [f.name for f in AccountEvent._meta.fields]

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

    def _may_write(self, request, obj) -> bool:
        # A membership of someone who also works elsewhere is theirs to see, not to change.
        if obj is not None and not managed_users(request).filter(pk=obj.user_id).exists():
            return False
        return super()._may_write(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "agency" and self._scoped(request):
            kwargs["queryset"] = Agency.objects.filter(pk__in=administered_agency_ids(request))
        if db_field.name == "user" and self._scoped(request) and not request.user.has_perm("accounts.change_user"):
            kwargs["queryset"] = managed_users(request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @transaction.atomic
    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        account_event_record(
            actor=request.user,
            subject=obj.user,
            action=AccountEvent.Action.MEMBERSHIP_CHANGED if change else AccountEvent.Action.MEMBERSHIP_ADDED,
            data=membership_data(obj),
        )
        sync_staff_flag(obj.user)

    @transaction.atomic
    def delete_model(self, request, obj):
        user = obj.user
        account_event_record(
            actor=request.user, subject=user, action=AccountEvent.Action.MEMBERSHIP_REMOVED, data=membership_data(obj)
        )
        super().delete_model(request, obj)
        sync_staff_flag(user)

    @transaction.atomic
    def delete_queryset(self, request, queryset):
        # Django's bulk delete asks for permission without an object: check each one here.
        if not all(self.has_delete_permission(request, membership) for membership in queryset):
            raise PermissionDenied
        users = set()
        for membership in queryset.select_related("user", "agency"):
            users.add(membership.user)
            account_event_record(
                actor=request.user,
                subject=membership.user,
                action=AccountEvent.Action.MEMBERSHIP_REMOVED,
                data=membership_data(membership),
            )
        super().delete_queryset(request, queryset)
        for user in users:
            sync_staff_flag(user)
