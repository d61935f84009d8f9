from celery import shared_task

from .services import notification_send


@shared_task(name="notifications.send")
def send_notification(notification_id: int) -> str:
    """Send one notification; safe to deliver twice (the row's status and lease are the guard)."""
    return notification_send(notification_id=notification_id)
