from django import template

from notifications.constants import Channel
from notifications.models import Notification

register = template.Library()


@register.inclusion_tag("notifications/_list.html")
def latest_notifications(user, count: int = 5):
    """The person's newest in-app notifications (the account page shows them)."""
    items = Notification.objects.filter(recipient=user, channel=Channel.IN_APP)[:count] if user.is_authenticated else []
    return {"items": items}
