"""One date format everywhere (issue 11, point 4): 20/11/2026, and 09:30 20/11/2026 for times.

Django's own Vietnamese formats write "Ngày 20 tháng 11 năm 2026" for DATE_FORMAT and
"20-11-2026" for the short one; Vietnamese offices and the portal's citizen pages write
dd/mm/yyyy. The English interface keeps the same format (portal/formats/en), so that a date reads
the same to an officer whichever language they chose. Official forms write their dates in words
(dossiers/templatetags/form_tags.py).
"""

DATE_FORMAT = "d/m/Y"
SHORT_DATE_FORMAT = "d/m/Y"
DATETIME_FORMAT = "H:i d/m/Y"
SHORT_DATETIME_FORMAT = "H:i d/m/Y"
TIME_FORMAT = "H:i"
MONTH_DAY_FORMAT = "d/m"
YEAR_MONTH_FORMAT = "m/Y"
FIRST_DAY_OF_WEEK = 1  # Monday
DATE_INPUT_FORMATS = ["%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d"]
DATETIME_INPUT_FORMATS = [
    "%H:%M %d/%m/%Y",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
]
DECIMAL_SEPARATOR = ","
THOUSAND_SEPARATOR = "."
