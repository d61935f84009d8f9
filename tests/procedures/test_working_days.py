"""The Government's published working-day changes shipped as data, and the half-day rule (issue 7 pts 12-13)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from procedures.calendar import WorkingCalendar, due_at
from procedures.constants import CalendarDayKind
from procedures.models import CalendarDay
from procedures.working_days import working_days_load, working_days_read

VN = ZoneInfo("Asia/Ho_Chi_Minh")
CUTOFF = dt.time(16, 0)


def at(day: int, month: int, hour: int, minute: int = 0, year: int = 2026) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=VN)


def test_every_shipped_change_has_a_source_and_a_true_library_flag():
    """`in_holidays_library` says whether the installed `holidays` library already agrees; checked here."""
    library = WorkingCalendar({})
    changes = working_days_read()
    assert {c.date.year for c in changes} == {2025, 2026}
    for change in changes:
        assert change.source.strip()
        wanted = change.kind == CalendarDayKind.WORKING_DAY
        assert (library.is_working_day(change.date) == wanted) == change.in_holidays_library, change


def test_the_new_year_2026_bridge_is_missing_from_the_library_and_shipped():
    library = WorkingCalendar({})
    assert library.is_working_day(dt.date(2026, 1, 2)) and not library.is_working_day(dt.date(2026, 1, 10))
    shipped = {c.date: c for c in working_days_read()}
    assert shipped[dt.date(2026, 1, 2)].kind == CalendarDayKind.DAY_OFF
    assert shipped[dt.date(2026, 1, 10)].kind == CalendarDayKind.WORKING_DAY
    assert "12729/VPCP-KGVX" in shipped[dt.date(2026, 1, 2)].source


@pytest.mark.django_db
def test_loading_twice_changes_nothing_and_keeps_an_administrators_row():
    CalendarDay.objects.create(date=dt.date(2026, 1, 10), kind=CalendarDayKind.DAY_OFF, name="Quyết định của tỉnh")
    created, kept = working_days_load()
    assert kept == 1 and created == len(working_days_read()) - 1
    assert working_days_load() == (0, len(working_days_read()))
    assert CalendarDay.objects.get(date=dt.date(2026, 1, 10)).kind == CalendarDayKind.DAY_OFF


@pytest.mark.django_db
def test_with_the_shipped_data_no_appointment_falls_on_the_new_year_bridge():
    """Received Tue 30/12/2025 10:00, +2 working days: Wed 31/12, then Mon 05/01 (Thu 01 and Fri 02/01 off)."""
    received = at(30, 12, 10, year=2025)
    assert due_at(received, 2, cutoff=CUTOFF) == at(2, 1, 17)  # the library alone: a closed Friday
    call_command("load_working_days", verbosity=0)
    assert due_at(received, 2, cutoff=CUTOFF) == at(5, 1, 17)
    # The make-up Saturday 10/01/2026 counts: received Fri 09/01, +1 → Sat 10/01.
    assert due_at(at(9, 1, 10), 1, cutoff=CUTOFF) == at(10, 1, 17)


# --- 13. half days -----------------------------------------------------------------------------


def test_half_a_day_received_at_15_00_ends_at_the_close_of_the_next_morning():
    calendar = WorkingCalendar({})
    assert calendar.due_at(at(10, 3, 15), Decimal("0.5"), cutoff=CUTOFF) == at(11, 3, 11, 30)


def test_half_a_day_received_in_the_morning_session_ends_at_the_close_of_that_day():
    calendar = WorkingCalendar({})
    assert calendar.due_at(at(10, 3, 11, 0), Decimal("0.5"), cutoff=CUTOFF) == at(10, 3, 17)
    # The morning session has closed at 11:30: the next whole session is the next morning.
    assert calendar.due_at(at(10, 3, 11, 30), Decimal("0.5"), cutoff=CUTOFF) == at(11, 3, 11, 30)


def test_two_and_a_half_days_end_at_the_close_of_the_third_morning():
    calendar = WorkingCalendar({})
    assert calendar.due_at(at(10, 3, 15), Decimal("2.5"), cutoff=CUTOFF) == at(13, 3, 11, 30)
