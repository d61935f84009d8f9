from django import template
from django.utils.translation import get_language

register = template.Library()


@register.filter
def vnd(amount) -> str:
    """An amount of Vietnamese đồng as people read it: "75.000 đồng" (English: "75,000 VND")."""
    try:
        value = int(amount)
    except (TypeError, ValueError):
        return ""
    grouped = f"{value:,}"
    if (get_language() or "vi").startswith("vi"):
        return grouped.replace(",", ".") + " đồng"
    return grouped + " VND"
