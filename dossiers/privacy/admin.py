from django.contrib import admin

from .models import Consent, DossierPurge, PersonalDataAccess


class ReadOnlyAdmin(admin.ModelAdmin):
    """Evidence tables: system administrators read them; nobody adds, changes or deletes a row."""

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


@admin.register(Consent)
class ConsentAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "user", "purpose", "granted", "context", "text_version"]
    list_filter = ["purpose", "granted", "context"]
    raw_id_fields = ["user", "dossier"]


@admin.register(PersonalDataAccess)
class PersonalDataAccessAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "dossier", "viewer", "channel"]
    list_filter = ["channel"]
    raw_id_fields = ["dossier", "viewer"]


@admin.register(DossierPurge)
class DossierPurgeAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "dossier", "retention_years", "files_removed"]
    raw_id_fields = ["dossier"]
