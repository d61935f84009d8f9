from django import template

from ..masking import mask_cccd as _mask_cccd

register = template.Library()


@register.filter
def mask_cccd(value):
    """{{ dossier.applicant_id_number|mask_cccd }} → 037******517."""
    return _mask_cccd(value)
