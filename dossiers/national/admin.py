from django.contrib import admin

from .models import NationalComparison, NationalInbound, SandboxNationalFiling, SandboxNationalRecord


@admin.register(NationalComparison)
class NationalComparisonAdmin(admin.ModelAdmin):
    list_display = ["day", "ours", "theirs", "created_at"]


@admin.register(NationalInbound)
class NationalInboundAdmin(admin.ModelAdmin):
    list_display = ["national_id", "dossier", "received_at"]
    raw_id_fields = ["dossier"]


admin.site.register(SandboxNationalRecord)
admin.site.register(SandboxNationalFiling)
