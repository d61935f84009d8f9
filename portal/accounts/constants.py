from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    CITIZEN = "citizen", _("Công dân, tổ chức")
    RECEPTION = "reception", _("Cán bộ một cửa")
    SPECIALIST = "specialist", _("Chuyên viên xử lý")
    LEADER = "leader", _("Lãnh đạo phê duyệt")
    AGENCY_ADMIN = "agency_admin", _("Quản trị cơ quan")
    # Community digital teams and post-office staff who submit for citizens present with them
    # (tổ công nghệ số cộng đồng); registered at a commune, never an officer of it.
    DIGITAL_HELPER = "digital_helper", _("Tổ công nghệ số cộng đồng")
    SYSTEM_ADMIN = "system_admin", _("Quản trị hệ thống")


STAFF_ROLES = (Role.RECEPTION, Role.SPECIALIST, Role.LEADER, Role.AGENCY_ADMIN)


class Gender(models.TextChoices):
    MALE = "male", _("Nam")
    FEMALE = "female", _("Nữ")
