"""The Celery application shared by the web process, the worker and beat."""

import os
from pathlib import Path

from celery import Celery
from celery.signals import import_modules, worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@import_modules.connect
def _create_filesystem_broker_folders(sender=None, **kwargs) -> None:
    """The server-less filesystem broker needs its folders before the first message."""
    if str(app.conf.broker_url).startswith("filesystem"):
        for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
            folder = app.conf.broker_transport_options.get(key)
            if folder:
                Path(folder).mkdir(parents=True, exist_ok=True)


@worker_ready.connect
def _first_heartbeat(sender=None, **kwargs) -> None:
    """Beat's first heartbeat comes after a full interval; one at start-up shows the worker at once."""
    sender.app.send_task("portal.tasks.record_heartbeat", args=["beat"])
