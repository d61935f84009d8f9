"""Working days of Vietnamese state agencies and the deadlines computed from them.

The weekly rest is Saturday and Sunday. Public holidays (Labour Code 2019 Art 112, lunar Tết and
Hùng Kings day included, with the compensatory days the Government fixes) come from the
`holidays` library. Administrators add what the library does not know as CalendarDay rows: extra
days off, and make-up Saturdays that are working days (22/8/2026, for 31/8/2026).

Counting follows the Civil Code 2015 Arts 147–148: the day of reception is not counted, and the
period ends at the end of the last working day. A dossier received on a non-working day, or after
the procedure's cut-off hour, counts as received on the next working day (Decree 297/2025 Art
6(3): within 1 hour before the end of office hours, from the next working day). A half day is one
full office session: after whole days it ends at the close of the next morning; alone, it ends at
the close of the day of reception for a dossier received in the morning, else at the close of the
next working day's morning (docs/decisions/0002).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy

from .constants import CalendarDayKind

# Longest look-ahead for a deadline; procedures take at most a few months of working days.
_HORIZON_DAYS = 800


class Timing:
    EARLY = "early"
    ON_TIME = "on_time"
    LATE = "late"

    # Lazy: pages show them in the reader's language; the official forms render under Vietnamese.
    LABELS = {EARLY: gettext_lazy("Trước hạn"), ON_TIME: gettext_lazy("Đúng hạn"), LATE: gettext_lazy("Quá hạn")}


def _parse_hhmm(value: str) -> dt.time:
    hour, minute = value.split(":")
    return dt.time(int(hour), int(minute))


_SUBSTITUTED_RE = re.compile(r"substituted from (\d{2})/(\d{2})/(\d{4})")


@lru_cache(maxsize=64)
def _library_days(year: int) -> tuple[frozenset[dt.date], frozenset[dt.date]]:
    """(days off, make-up working days) that the `holidays` library knows for a year.

    The library names a swapped day off "Day off (substituted from 08/22/2026)" but does not mark
    the Saturday it was swapped from as a working day; that Saturday is read back from the name.
    """
    days_off, working = set(), set()
    for year_ in (year - 1, year, year + 1):
        for day, name in holidays.country_holidays("VN", years=year_, language="en_US").items():
            if day.year == year:
                days_off.add(day)
            for match in _SUBSTITUTED_RE.finditer(name):
                month, dom, y = (int(g) for g in match.groups())
                if y == year:
                    working.add(dt.date(y, month, dom))
    return frozenset(days_off), frozenset(working)


@dataclass(frozen=True)
class OfficeHours:
    morning_start: dt.time
    morning_end: dt.time
    afternoon_start: dt.time
    afternoon_end: dt.time

    @classmethod
    def from_settings(cls) -> OfficeHours:
        morning = getattr(settings, "OFFICE_MORNING", ("07:30", "11:30"))
        afternoon = getattr(settings, "OFFICE_AFTERNOON", ("13:30", "17:00"))
        return cls(*(_parse_hhmm(v) for v in (*morning, *afternoon)))


class WorkingCalendar:
    """Which days are working days, from the library's holidays and the administrators' overrides.

    `overrides` maps a date to True (a working day, e.g. a make-up Saturday) or False (a day off).
    """

    def __init__(self, overrides: dict[dt.date, bool] | None = None, hours: OfficeHours | None = None):
        self.overrides = dict(overrides or {})
        self.hours = hours or OfficeHours.from_settings()

    @classmethod
    def load(cls, start: dt.date, end: dt.date | None = None) -> WorkingCalendar:
        """The calendar with the CalendarDay rows between start and end (one query)."""
        from .models import CalendarDay

        end = end or start + dt.timedelta(days=_HORIZON_DAYS)
        rows = CalendarDay.objects.filter(date__range=(start - dt.timedelta(days=7), end)).values_list("date", "kind")
        return cls({day: kind == CalendarDayKind.WORKING_DAY for day, kind in rows})

    def is_working_day(self, day: dt.date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        days_off, make_up = _library_days(day.year)
        if day in make_up:
            return True
        return day.weekday() < 5 and day not in days_off

    def next_working_day(self, day: dt.date) -> dt.date:
        """The first working day strictly after `day`."""
        for offset in range(1, _HORIZON_DAYS):
            candidate = day + dt.timedelta(days=offset)
            if self.is_working_day(candidate):
                return candidate
        raise ValueError("no working day within the horizon")

    def add_working_days(self, day: dt.date, count: int) -> dt.date:
        """The `count`-th working day after `day` (the day itself is not counted)."""
        for _ in range(count):
            day = self.next_working_day(day)
        return day

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days after `start` up to and including `end`."""
        count, day = 0, start
        while day < end:
            day += dt.timedelta(days=1)
            count += self.is_working_day(day)
        return count

    def effective_reception_day(self, received_at: dt.datetime, cutoff: dt.time) -> dt.date:
        """The day that counts as the day of reception, after the cut-off rule."""
        local = timezone.localtime(received_at) if timezone.is_aware(received_at) else received_at
        day = local.date()
        # A cut-off configured after the close of office hours must not let a dossier received
        # after the close count from that day (a half-day result would fall due before reception).
        if not self.is_working_day(day) or local.time() >= min(cutoff, self.hours.afternoon_end):
            return self.next_working_day(day)
        return day

    def due_at(
        self, received_at: dt.datetime, days: Decimal | int | float | str, *, cutoff: dt.time | None = None
    ) -> dt.datetime:
        """Appointment time for a period of `days` working days (whole or half) from `received_at`.

        `received_at` must be aware; the result is aware in the project's time zone.
        """
        days = Decimal(str(days))
        if days <= 0 or (days * 2) % 1:
            raise ValueError("days must be a positive multiple of 0.5")
        tz = ZoneInfo(settings.TIME_ZONE)
        cutoff = cutoff or self.hours.afternoon_end
        start = self.effective_reception_day(received_at, cutoff)
        whole = int(days)
        half = days - whole
        if whole == 0:
            # A half day is one full office session after reception (docs/decisions/0002): received in
            # the morning session, or counted from the opening of a later day (after the cut-off, on a
            # day off), it ends at the close of that day; received after the morning session, at the
            # close of the next working day's morning, never with two working hours left.
            local = timezone.localtime(received_at) if timezone.is_aware(received_at) else received_at
            if start != local.date() or local.time() < self.hours.morning_end:
                return dt.datetime.combine(start, self.hours.afternoon_end, tzinfo=tz)
            return dt.datetime.combine(self.next_working_day(start), self.hours.morning_end, tzinfo=tz)
        last = self.add_working_days(start, whole)
        if half:
            return dt.datetime.combine(self.next_working_day(last), self.hours.morning_end, tzinfo=tz)
        return dt.datetime.combine(last, self.hours.afternoon_end, tzinfo=tz)


def due_at(received_at: dt.datetime, days, *, cutoff: dt.time | None = None) -> dt.datetime:
    """Convenience: the appointment time with the calendar as administrators configured it."""
    local_day = timezone.localtime(received_at).date() if timezone.is_aware(received_at) else received_at.date()
    return WorkingCalendar.load(local_day).due_at(received_at, days, cutoff=cutoff)


def classify(completed_at: dt.datetime, due: dt.datetime) -> str:
    """Trước hạn / đúng hạn / quá hạn: early before the appointment day, on time on it, late after it."""
    if completed_at > due:
        return Timing.LATE
    if timezone.localtime(completed_at).date() == timezone.localtime(due).date():
        return Timing.ON_TIME
    return Timing.EARLY
