"""Read-only views of payments and what the gateways said: states change only through services."""

from django.contrib import admin

from .models import Payment, PaymentEvent, PaymentMessage, PaymentReport, Refund


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PaymentEventInline(admin.TabularInline):
    model = PaymentEvent
    extra = 0
    can_delete = False
    readonly_fields = ["created_at", "from_state", "to_state", "source", "actor", "note"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ["reference", "dossier", "provider", "method", "amount", "state", "paid_at"]
    list_filter = ["state", "provider", "method"]
    search_fields = ["reference", "dossier__code", "gateway_transaction_no", "receipt_number"]
    inlines = [PaymentEventInline]


@admin.register(PaymentMessage)
class PaymentMessageAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "provider", "kind", "reference", "verified", "outcome"]
    list_filter = ["provider", "kind", "outcome"]
    search_fields = ["reference"]


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = ["payment", "amount", "state", "requested_by", "approved_by", "created_at"]
    list_filter = ["state"]


@admin.register(PaymentReport)
class PaymentReportAdmin(ReadOnlyAdmin):
    list_display = ["day", "agency", "created_at"]
