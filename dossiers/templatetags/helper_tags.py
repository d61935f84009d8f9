"""Template helpers for the community digital helper's links."""

from django import template

register = template.Library()


@register.filter
def is_digital_helper(user) -> bool:
    """Whether the user is registered with a commune's community digital team."""
    return bool(getattr(user, "is_authenticated", False)) and user.is_digital_helper
