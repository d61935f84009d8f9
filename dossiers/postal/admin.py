from django.contrib import admin

from .models import SandboxPostalOrder, Shipment, ShipmentEvent


class ShipmentEventInline(admin.TabularInline):
    model = ShipmentEvent
    extra = 0
    readonly_fields = ["event_id", "status", "note", "at"]


@admin.register(Shipment)
class ShipmentAdmin(admin.ModelAdmin):
    list_display = ["created_at", "dossier", "direction", "tracking_number", "status"]
    list_filter = ["status", "direction"]
    search_fields = ["tracking_number", "reference", "dossier__code"]
    raw_id_fields = ["dossier"]
    inlines = [ShipmentEventInline]


admin.site.register(SandboxPostalOrder)
