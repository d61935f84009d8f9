"""portal_tags.hm_dmy writes what `|date:"H:i d/m/Y"|default:…` writes, in the current time zone."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
from django.template import engines
from django.utils import timezone

VALUES = [
    None,
    "",
    datetime.datetime(2026, 3, 2, 1, 5, tzinfo=datetime.UTC),  # 08:05 in Hanoi
    datetime.datetime(2026, 12, 31, 17, 30, tzinfo=datetime.UTC),  # the next day and year in Hanoi
    datetime.datetime(999, 1, 9, 23, 59, tzinfo=datetime.UTC),  # a year of three digits
]


@pytest.mark.parametrize("zone", ["Asia/Ho_Chi_Minh", "UTC", "America/Los_Angeles"])
@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_the_filter_writes_what_djangos_date_filter_writes(value, zone):
    django_way = engines["django"].from_string(
        "{% load tz %}{% timezone zone %}"
        '[{{ v|date:"H:i d/m/Y"|default:"—" }}|{{ v|date:"H:i d/m/Y" }}]{% endtimezone %}'
    )
    ours = engines["django"].from_string(
        '{% load tz portal_tags %}{% timezone zone %}[{{ v|hm_dmy:"—" }}|{{ v|hm_dmy }}]{% endtimezone %}'
    )
    context = {"v": value, "zone": zoneinfo.ZoneInfo(zone)}
    with timezone.override(zone):
        assert ours.render(context) == django_way.render(context)
