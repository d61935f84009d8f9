"""Per-citizen quotas (ASVS 12.1.3): how many drafts one person keeps open and how many bytes of
uploads they store, so that one account cannot fill the disk (50 drafts of 100 MB each).

Called by the services inside their transaction, with the owner's row locked so that parallel
requests cannot each see room for one more.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Sum
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from .constants import DossierState


def _lock_owner(user) -> None:
    get_user_model().objects.select_for_update().filter(pk=user.pk).first()


def quota_check_new_draft(*, owner, error_class) -> None:
    """Raise error_class when `owner` already has settings.CITIZEN_MAX_DRAFTS open drafts."""
    from .models import Dossier

    limit = settings.CITIZEN_MAX_DRAFTS
    _lock_owner(owner)
    if Dossier.objects.filter(owner=owner, state=DossierState.DRAFT).count() >= limit:
        raise error_class(
            _(
                "Bạn đang có %(limit)d hồ sơ nháp chưa nộp, là số tối đa. Vui lòng nộp hoặc xóa bớt hồ sơ "
                "nháp trước khi tạo hồ sơ mới."
            )
            % {"limit": limit}
        )


def quota_check_upload(*, user, size: int, error_class) -> None:
    """Raise error_class when storing `size` more bytes would pass settings.CITIZEN_MAX_STORED_BYTES."""
    from .models import DossierFile

    limit = settings.CITIZEN_MAX_STORED_BYTES
    _lock_owner(user)
    used = DossierFile.objects.filter(uploaded_by=user).aggregate(total=Sum("size"))["total"] or 0
    if used + size > limit:
        raise error_class(
            _(
                "Dung lượng tệp bạn đã tải lên (%(used)s) cộng tệp này vượt quá giới hạn %(limit)s cho mỗi "
                "tài khoản. Vui lòng xóa bớt tệp ở các hồ sơ nháp không dùng nữa."
            )
            % {"used": filesizeformat(used), "limit": filesizeformat(limit)},
            field="file",
        )
