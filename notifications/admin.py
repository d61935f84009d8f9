from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from .models import DeliveryLog, Notification, NotificationTemplate, SandboxSms, SentAlert
from .services import notification_retry


@admin.register(NotificationTemplate)
class NotificationTemplateAdmin(admin.ModelAdmin):
    list_display = ["event", "channel", "language", "subject", "is_active", "updated_at"]
    list_filter = ["channel", "language", "is_active"]
    search_fields = ["subject", "body"]


class DeliveryLogInline(admin.TabularInline):
    model = DeliveryLog
    extra = 0
    can_delete = False
    readonly_fields = ["status", "attempt", "detail", "at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """The operations view of notifications: pending, failed and retried ones, and a retry action."""

    list_display = ["created_at", "event", "channel", "address", "status", "attempts", "last_error"]
    list_filter = ["status", "channel", "event"]
    search_fields = ["reference", "dossier__code"]
    readonly_fields = [f.name for f in Notification._meta.fields]
    inlines = [DeliveryLogInline]
    actions = ["retry"]
    show_full_result_count = False  # no COUNT over a province's notifications on every page

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Gửi lại các thông báo lỗi đã chọn"))
    def retry(self, request, queryset):
        done = sum(notification_retry(notification=n).status == "queued" for n in queryset.filter(status="failed"))
        self.message_user(request, _("Đã xếp lại %(n)s thông báo để gửi.") % {"n": done}, messages.SUCCESS)


@admin.register(SentAlert)
class SentAlertAdmin(admin.ModelAdmin):
    list_display = ["created_at", "dossier", "step", "level", "due_at"]
    list_filter = ["level"]
    raw_id_fields = ["dossier", "step"]


@admin.register(SandboxSms)
class SandboxSmsAdmin(admin.ModelAdmin):
    list_display = ["created_at", "to", "text", "client_reference"]


# The operations view of background work (dossiers' side effects) lives here with the notifications'.
from dossiers.models import SideEffect  # noqa: E402
from dossiers.tasks import side_effect_retry  # noqa: E402


@admin.register(SideEffect)
class SideEffectAdmin(admin.ModelAdmin):
    list_display = ["created_at", "kind", "dossier", "status", "attempts", "next_attempt_at", "last_error"]
    list_filter = ["status", "kind"]
    readonly_fields = [f.name for f in SideEffect._meta.fields]
    search_fields = ["dossier__code"]
    actions = ["retry"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Chạy lại các tác vụ lỗi đã chọn"))
    def retry(self, request, queryset):
        done = sum(side_effect_retry(effect=e).status == "pending" for e in queryset.filter(status="failed"))
        self.message_user(request, _("Đã xếp lại %(n)s tác vụ.") % {"n": done}, messages.SUCCESS)
