"""Form widgets shared by the apps."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

# What the date fields say next to themselves (issue 11, point 5).
DATE_HELP = _("Nhập theo dạng ngày/tháng/năm, ví dụ 20/11/2026.")
DATE_INPUT_FORMATS = ["%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d"]


class VietnameseDateInput(forms.TextInput):
    """A date typed the Vietnamese way, dd/mm/yyyy, whatever the browser's language.

    The browser's own date picker shows mm/dd/yyyy in an English browser; a text field with a
    numeric keypad on phones does not. The server parses it (DATE_INPUT_FORMATS, ISO too).
    """

    def __init__(self, attrs=None):
        defaults = {
            "inputmode": "numeric",
            "pattern": r"\d{1,2}[/.\-]\d{1,2}[/.\-]\d{4}|\d{4}-\d{2}-\d{2}",
            "placeholder": "dd/mm/yyyy",
            "maxlength": 10,
            "autocomplete": "off",
        }
        super().__init__(attrs={**defaults, **(attrs or {})})
        self.format = "%d/%m/%Y"

    def format_value(self, value):
        if hasattr(value, "strftime"):
            return value.strftime(self.format)
        if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
            # An ISO answer stored on a draft, shown the Vietnamese way.
            return f"{value[8:10]}/{value[5:7]}/{value[0:4]}"
        return super().format_value(value)
