"""Django admin for agency administrators: their own agencies' procedures, units and staff only.

System administrators (superusers) see everything through Django's permissions. An agency
administrator (Membership role agency_admin) needs no model permission: these mixins grant them
the admin pages of the models listed, limited to the agencies they administer and those below.
"""

from __future__ import annotations

from portal.accounts.constants import Role


def administered_agency_ids(request) -> set[int]:
    """Agencies (with their subunits) the user administers; cached on the request."""
    if not hasattr(request, "_administered_agency_ids"):
        user = request.user
        ids = user.agency_ids(Role.AGENCY_ADMIN) if user.is_authenticated and user.is_active else set()
        request._administered_agency_ids = ids
    return request._administered_agency_ids


class AgencyScopedAdminMixin:
    """Scope a ModelAdmin (or inline) to the requesting agency administrator's agencies.

    `agency_lookup` is the queryset path from the model to its Agency; `read_only_for_agency_admins`
    lets them look (and pick in autocompletes) without changing anything.
    """

    agency_lookup: str | None = "agencies"
    read_only_for_agency_admins = False

    def _model_allowed(self, request, action: str) -> bool:
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.{action}_{opts.model_name}")

    def _scoped(self, request) -> bool:
        return not request.user.is_superuser and bool(administered_agency_ids(request))

    def in_scope(self, request, obj) -> bool:
        if obj is None or self.agency_lookup is None:
            return True
        ids = administered_agency_ids(request)
        return type(obj)._default_manager.filter(pk=obj.pk, **{f"{self.agency_lookup}__in": ids}).exists()

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if self._scoped(request) and not self._model_allowed(request, "view") and self.agency_lookup:
            queryset = queryset.filter(**{f"{self.agency_lookup}__in": administered_agency_ids(request)}).distinct()
        return queryset

    def has_module_permission(self, request):
        return super().has_module_permission(request) or self._scoped(request)

    def has_view_permission(self, request, obj=None):
        if super().has_view_permission(request, obj):
            return True
        return self._scoped(request) and self.in_scope(request, obj)

    def _may_write(self, request, obj) -> bool:
        return self._scoped(request) and not self.read_only_for_agency_admins and self.in_scope(request, obj)

    def has_add_permission(self, request, *args):
        return super().has_add_permission(request, *args) or self._may_write(request, None)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) or self._may_write(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) or self._may_write(request, obj)


class InlineScopedMixin(AgencyScopedAdminMixin):
    """Inlines follow their parent procedure: writable when the procedure is in scope."""

    agency_lookup = None


def managed_users(request):
    """The accounts an agency administrator may manage: staff whose every membership lies within
    the agencies they administer. Never a superuser, never a citizen (no membership), never an
    officer who also works elsewhere: changing that person would reach into another agency.
    """
    from django.db.models import Exists, OuterRef

    from portal.accounts.models import Membership, User

    ids = administered_agency_ids(request)
    if not ids:
        return User.objects.none()
    elsewhere = Membership.objects.filter(user=OuterRef("pk")).exclude(agency_id__in=ids)
    inside = Membership.objects.filter(user=OuterRef("pk"), agency_id__in=ids)
    return User.objects.filter(Exists(inside), is_superuser=False).exclude(Exists(elsewhere))
