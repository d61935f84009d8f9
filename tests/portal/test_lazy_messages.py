"""portal.middleware.LazyMessageMiddleware: Django's messages, the storage built only when used."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.messages.storage.fallback import FallbackStorage
from django.utils.functional import empty

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.portal.urls_messages")]

SHOWN = '<p class="message message-success">Đã lưu &lt;hồ sơ&gt;.</p>'


def test_a_message_waits_through_requests_that_ignore_messages_and_is_shown_once(client):
    client.get("/__add__/")
    assert settings.MESSAGE_STORAGE.endswith("FallbackStorage")

    ignored = client.get("/__ignore__/")
    assert "messages" not in ignored.cookies  # nothing read, nothing rewritten
    assert ignored.wsgi_request._messages._wrapped is empty  # the storage was never built

    assert SHOWN in client.get("/__show__/").content.decode()
    assert SHOWN not in client.get("/__show__/").content.decode()


def test_a_request_that_uses_its_messages_gets_djangos_storage(client):
    response = client.get("/__add__/")

    storage = response.wsgi_request._messages
    assert isinstance(storage._wrapped, FallbackStorage)
    assert [str(m) for m in storage._queued_messages] == ["Đã lưu <hồ sơ>."]
    assert "messages" in response.cookies
