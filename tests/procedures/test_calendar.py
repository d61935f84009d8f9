"""Working days and appointment dates (domain.md §5), checked against the real 2025–2027 schedules.

Civil Code 2015 Arts 147–148: the day of reception is not counted and the period ends at the end of
the last working day. Expected dates below were worked out by hand from the Government's holiday
notices, not from the implementation.
"""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from procedures.calendar import Timing, WorkingCalendar, classify, due_at
from procedures.constants import CalendarDayKind
from procedures.models import CalendarDay

VN = ZoneInfo("Asia/Ho_Chi_Minh")
CLOSE = dt.time(17, 0)  # end of the afternoon session (settings.OFFICE_AFTERNOON)
MORNING_CLOSE = dt.time(11, 30)
CUTOFF = dt.time(16, 0)  # a procedure's default cut-off hour


def at(day: str, time: str = "09:00", tz=VN) -> dt.datetime:
    """An aware datetime from "dd/mm/yyyy" and "hh:mm"."""
    return dt.datetime.strptime(f"{day} {time}", "%d/%m/%Y %H:%M").replace(tzinfo=tz)


def date(day: str) -> dt.date:
    return dt.datetime.strptime(day, "%d/%m/%Y").date()


@pytest.fixture
def calendar():
    """The calendar of the `holidays` library alone, without administrators' overrides."""
    return WorkingCalendar()


# --- domain.md §5 worked examples ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("received", "days", "expected"),
    [
        # Tết Bính Ngọ: Mon 16/02 – Fri 20/02/2026 off.
        (at("12/02/2026", "09:30"), 5, "26/02/2026"),
        # Hùng Kings (observed Mon 27/04), 30/4 and 1/5 in a row.
        (at("24/04/2026", "10:00"), 3, "04/05/2026"),
        # Saturday 22/08/2026 is worked in exchange for Monday 31/08/2026.
        (at("20/08/2026", "09:00"), 3, "24/08/2026"),
    ],
)
def test_worked_examples_of_the_2026_schedule(calendar, received, days, expected):
    assert calendar.due_at(received, days, cutoff=CUTOFF) == at(expected, "17:00")


# --- holidays of 2025–2027 ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "day",
    [
        # Tết Ất Tỵ 2025: Mon 27/01 – Fri 31/01, New Year's day itself on Wed 29/01.
        "27/01/2025",
        "28/01/2025",
        "29/01/2025",
        "30/01/2025",
        "31/01/2025",
        "07/04/2025",  # Hùng Kings
        "30/04/2025",
        "01/05/2025",
        "02/05/2025",  # swapped with Saturday 26/04/2025
        "01/09/2025",
        "02/09/2025",
        "01/01/2026",
        "16/02/2026",
        "17/02/2026",
        "20/02/2026",
        "26/04/2026",  # Hùng Kings on a Sunday …
        "27/04/2026",  # … so Monday is the compensatory day
        "30/04/2026",
        "01/05/2026",
        "31/08/2026",  # swapped with Saturday 22/08/2026
        "01/09/2026",
        "02/09/2026",
        # Tết Đinh Mùi 2027: New Year's day on Saturday 06/02, weekdays 04/02 – 10/02 off.
        "04/02/2027",
        "05/02/2027",
        "06/02/2027",
        "08/02/2027",
        "09/02/2027",
        "10/02/2027",
        "16/04/2027",  # Hùng Kings
        "30/04/2027",
        "03/05/2027",  # 01/05/2027 is a Saturday: compensatory Monday
        "02/09/2027",
        "03/09/2027",
    ],
)
def test_public_holidays_are_not_working_days(calendar, day):
    assert not calendar.is_working_day(date(day))


@pytest.mark.parametrize(
    "day",
    [
        "24/01/2025",  # last working day before Tết 2025
        "03/02/2025",  # first working day after it
        "26/04/2025",  # make-up Saturday for 02/05/2025
        "08/04/2025",
        "03/09/2025",
        "13/02/2026",
        "23/02/2026",
        "28/04/2026",
        "04/05/2026",
        "22/08/2026",  # make-up Saturday for 31/08/2026
        "03/09/2026",
        "03/02/2027",
        "11/02/2027",
        "15/04/2027",
        "04/05/2027",
        "06/09/2027",
    ],
)
def test_ordinary_weekdays_and_make_up_saturdays_are_working_days(calendar, day):
    assert calendar.is_working_day(date(day))


@pytest.mark.parametrize("day", ["07/03/2026", "08/03/2026", "21/08/2027", "22/08/2027"])
def test_ordinary_weekends_are_not_working_days(calendar, day):
    assert not calendar.is_working_day(date(day))


@pytest.mark.parametrize(
    ("received", "days", "expected"),
    [
        # Tết 2025: from Friday 24/01 the next working day is Monday 03/02.
        (at("24/01/2025", "10:00"), 1, "03/02/2025"),
        (at("23/01/2025", "10:00"), 2, "03/02/2025"),
        # 30/4, 1/5 and the swapped 2/5/2025 off; Saturday 26/04/2025 worked.
        (at("29/04/2025", "10:00"), 1, "05/05/2025"),
        (at("25/04/2025", "10:00"), 1, "26/04/2025"),
        (at("25/04/2025", "10:00"), 2, "28/04/2025"),
        (at("04/04/2025", "10:00"), 1, "08/04/2025"),  # Hùng Kings 07/04/2025
        (at("29/08/2025", "10:00"), 1, "03/09/2025"),  # National Day 1–2/9/2025
        (at("29/04/2026", "10:00"), 1, "04/05/2026"),
        (at("28/08/2026", "10:00"), 1, "03/09/2026"),  # 31/8, 1/9, 2/9/2026 off
        (at("21/08/2026", "10:00"), 1, "22/08/2026"),  # the make-up Saturday counts
        # Tết 2027: Thursday 04/02 – Wednesday 10/02 off.
        (at("03/02/2027", "10:00"), 1, "11/02/2027"),
        (at("03/02/2027", "10:00"), 2, "12/02/2027"),
        (at("15/04/2027", "10:00"), 1, "19/04/2027"),  # Hùng Kings 16/04/2027
        (at("29/04/2027", "10:00"), 1, "04/05/2027"),  # 30/4 Fri, 1/5 Sat, 3/5 compensatory
        (at("01/09/2027", "10:00"), 1, "06/09/2027"),  # National Day 2–3/9/2027
    ],
)
def test_appointments_skip_the_holidays_of_each_year(calendar, received, days, expected):
    assert calendar.due_at(received, days, cutoff=CUTOFF) == at(expected, "17:00")


# --- the day of reception -------------------------------------------------------------------------


def test_a_dossier_received_before_the_cut_off_counts_from_that_day(calendar):
    assert calendar.due_at(at("10/03/2026", "15:59"), 1, cutoff=CUTOFF) == at("11/03/2026", "17:00")


@pytest.mark.parametrize("time", ["16:00", "16:30", "20:00", "23:59"])
def test_a_dossier_received_at_or_after_the_cut_off_counts_from_the_next_working_day(calendar, time):
    assert calendar.due_at(at("10/03/2026", time), 1, cutoff=CUTOFF) == at("12/03/2026", "17:00")


def test_a_friday_after_the_cut_off_counts_from_monday(calendar):
    assert calendar.due_at(at("13/03/2026", "16:15"), 1, cutoff=CUTOFF) == at("17/03/2026", "17:00")


def test_without_a_cut_off_the_end_of_office_hours_is_the_limit(calendar):
    assert calendar.due_at(at("10/03/2026", "16:30"), 1) == at("11/03/2026", "17:00")
    assert calendar.due_at(at("10/03/2026", "17:00"), 1) == at("12/03/2026", "17:00")


@pytest.mark.parametrize("cutoff", [dt.time(17, 30), dt.time(23, 59)])
def test_a_dossier_received_after_office_hours_counts_from_the_next_day_even_with_a_later_cut_off(calendar, cutoff):
    """A cut-off set after the end of office hours cannot make a half-day result due before reception."""
    received = at("10/03/2026", "17:15")
    assert calendar.due_at(received, "0.5", cutoff=cutoff) == at("11/03/2026", "17:00")
    assert calendar.due_at(received, 1, cutoff=cutoff) == at("12/03/2026", "17:00")


def test_a_dossier_received_before_office_hours_counts_from_that_day(calendar):
    assert calendar.due_at(at("10/03/2026", "06:00"), 1, cutoff=CUTOFF) == at("11/03/2026", "17:00")


@pytest.mark.parametrize(
    ("received", "expected"),
    [
        (at("14/03/2026", "10:00"), "17/03/2026"),  # Saturday: received Monday 16/03
        (at("15/03/2026", "08:00"), "17/03/2026"),  # Sunday
        (at("30/04/2026", "09:00"), "05/05/2026"),  # holiday: received Monday 04/05
        (at("18/02/2026", "09:00"), "24/02/2026"),  # in the middle of Tết: received Monday 23/02
    ],
)
def test_a_dossier_received_on_a_day_off_counts_from_the_next_working_day(calendar, received, expected):
    assert calendar.due_at(received, 1, cutoff=CUTOFF) == at(expected, "17:00")


def test_the_reception_time_is_read_in_vietnamese_time(calendar):
    """09:30 UTC is 16:30 in Hà Nội, after a 16:00 cut-off."""
    received = at("10/03/2026", "09:30", tz=dt.UTC)
    assert calendar.due_at(received, 1, cutoff=CUTOFF) == at("12/03/2026", "17:00")


def test_the_appointment_is_in_vietnamese_time(calendar):
    due = calendar.due_at(at("10/03/2026", "02:00", tz=dt.UTC), 1, cutoff=CUTOFF)
    assert due.utcoffset() == dt.timedelta(hours=7)


# --- half days ------------------------------------------------------------------------------------


def test_half_a_day_ends_at_the_close_of_the_day_of_reception(calendar):
    assert calendar.due_at(at("10/03/2026", "09:00"), Decimal("0.5"), cutoff=CUTOFF) == at("10/03/2026", "17:00")


def test_half_a_day_received_after_the_cut_off_ends_the_next_working_day(calendar):
    assert calendar.due_at(at("13/03/2026", "16:30"), "0.5", cutoff=CUTOFF) == at("16/03/2026", "17:00")


def test_half_a_day_received_on_a_saturday_ends_on_monday(calendar):
    assert calendar.due_at(at("14/03/2026", "09:00"), 0.5, cutoff=CUTOFF) == at("16/03/2026", "17:00")


@pytest.mark.parametrize(
    ("received", "days", "expected"),
    [
        (at("10/03/2026", "09:00"), "2.5", "13/03/2026"),  # Wed, Thu, then Friday morning
        (at("12/02/2026", "09:00"), "2.5", "24/02/2026"),  # Fri 13/02, Mon 23/02, Tuesday morning
        (at("20/08/2026", "09:00"), "1.5", "22/08/2026"),  # Fri 21/08, then the make-up Saturday morning
    ],
)
def test_a_half_day_remainder_ends_at_the_morning_close(calendar, received, days, expected):
    assert calendar.due_at(received, days, cutoff=CUTOFF) == at(expected, "11:30")


def test_two_and_a_half_days_end_the_morning_after_two_full_days(calendar):
    received = at("10/03/2026", "09:00")
    two = calendar.due_at(received, 2, cutoff=CUTOFF)
    two_and_a_half = calendar.due_at(received, "2.5", cutoff=CUTOFF)
    three = calendar.due_at(received, 3, cutoff=CUTOFF)
    assert two < two_and_a_half < three
    assert two_and_a_half.date() == three.date()
    assert two_and_a_half.time() == MORNING_CLOSE


@pytest.mark.parametrize("days", [0, "0", -1, Decimal("-0.5"), "1.3", 0.25, Decimal("2.75")])
def test_a_period_that_is_not_a_positive_number_of_half_days_is_refused(calendar, days):
    with pytest.raises(ValueError, match=r"0\.5"):
        calendar.due_at(at("10/03/2026"), days)


# --- administrators' overrides (CalendarDay) ------------------------------------------------------


@pytest.mark.django_db
def test_an_extra_day_off_entered_by_an_administrator_pushes_the_appointment():
    received = at("11/03/2026", "10:00")
    assert due_at(received, 2, cutoff=CUTOFF) == at("13/03/2026", "17:00")
    CalendarDay.objects.create(date=date("13/03/2026"), kind=CalendarDayKind.DAY_OFF, name="Nghỉ bù theo tỉnh")
    assert due_at(received, 2, cutoff=CUTOFF) == at("16/03/2026", "17:00")


@pytest.mark.django_db
def test_a_make_up_saturday_entered_by_an_administrator_pulls_the_appointment():
    received = at("12/03/2026", "10:00")
    assert due_at(received, 2, cutoff=CUTOFF) == at("16/03/2026", "17:00")
    CalendarDay.objects.create(date=date("14/03/2026"), kind=CalendarDayKind.WORKING_DAY, name="Làm bù")
    assert due_at(received, 2, cutoff=CUTOFF) == at("14/03/2026", "17:00")


@pytest.mark.django_db
def test_an_administrator_can_cancel_a_holiday_the_library_knows():
    """24/11 "Ngày Văn hóa Việt Nam" is unconfirmed (domain.md §5); a working-day row overrides it."""
    received = at("23/11/2026", "10:00")
    assert due_at(received, 1, cutoff=CUTOFF) == at("25/11/2026", "17:00")
    CalendarDay.objects.create(date=date("24/11/2026"), kind=CalendarDayKind.WORKING_DAY, name="Không nghỉ")
    assert due_at(received, 1, cutoff=CUTOFF) == at("24/11/2026", "17:00")


@pytest.mark.django_db
def test_a_day_off_on_the_day_of_reception_moves_the_reception_to_the_next_working_day():
    CalendarDay.objects.create(date=date("10/03/2026"), kind=CalendarDayKind.DAY_OFF, name="Nghỉ đột xuất")
    assert due_at(at("10/03/2026", "09:00"), 1, cutoff=CUTOFF) == at("12/03/2026", "17:00")


@pytest.mark.django_db
def test_the_loaded_calendar_contains_the_administrators_days():
    CalendarDay.objects.create(date=date("13/03/2026"), kind=CalendarDayKind.DAY_OFF, name="Nghỉ")
    CalendarDay.objects.create(date=date("14/03/2026"), kind=CalendarDayKind.WORKING_DAY, name="Làm bù")
    loaded = WorkingCalendar.load(date("01/03/2026"))
    assert not loaded.is_working_day(date("13/03/2026"))
    assert loaded.is_working_day(date("14/03/2026"))
    assert loaded.working_days_between(date("12/03/2026"), date("16/03/2026")) == 2


@pytest.mark.django_db
def test_loading_the_calendar_is_one_query(django_assert_num_queries):
    CalendarDay.objects.create(date=date("13/03/2026"), kind=CalendarDayKind.DAY_OFF, name="Nghỉ")
    with django_assert_num_queries(1):
        due_at(at("10/03/2026"), 20, cutoff=CUTOFF)


# --- early / on time / late -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("completed", "expected"),
    [
        (at("25/02/2026", "16:00"), Timing.EARLY),
        (at("26/02/2026", "08:00"), Timing.ON_TIME),
        (at("26/02/2026", "17:00"), Timing.ON_TIME),
        (at("26/02/2026", "17:01"), Timing.LATE),
        (at("27/02/2026", "08:00"), Timing.LATE),
        # 18:00 UTC on 25/02 is 01:00 on 26/02 in Hà Nội: the appointment day, so on time.
        (at("25/02/2026", "18:00", tz=dt.UTC), Timing.ON_TIME),
        (at("25/02/2026", "16:00", tz=dt.UTC), Timing.EARLY),
    ],
)
def test_results_are_classified_against_the_appointment(calendar, completed, expected):
    due = calendar.due_at(at("12/02/2026", "09:30"), 5, cutoff=CUTOFF)
    assert classify(completed, due) == expected


def test_timing_labels_are_the_official_vietnamese_terms():
    assert Timing.LABELS == {Timing.EARLY: "Trước hạn", Timing.ON_TIME: "Đúng hạn", Timing.LATE: "Quá hạn"}


# --- counting working days ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("12/02/2026", "26/02/2026", 5),
        ("24/04/2026", "04/05/2026", 3),
        ("20/08/2026", "24/08/2026", 3),
        ("10/03/2026", "10/03/2026", 0),
        ("13/03/2026", "15/03/2026", 0),  # Friday to Sunday
        ("24/01/2025", "03/02/2025", 1),
        ("31/12/2025", "02/01/2026", 1),  # 01/01/2026 off
        # 2026: 261 weekdays, less 13 weekday holidays (1/1, five of Tết, 27/4, 30/4, 1/5, 31/8, 1/9,
        # 2/9, 24/11), plus the make-up Saturday 22/08.
        ("01/01/2026", "31/12/2026", 249),
    ],
)
def test_working_days_between_excludes_the_start_and_includes_the_end(calendar, start, end, expected):
    assert calendar.working_days_between(date(start), date(end)) == expected


# --- properties -----------------------------------------------------------------------------------

_reception = st.datetimes(
    min_value=dt.datetime(2025, 1, 1), max_value=dt.datetime(2027, 12, 31, 23, 59), timezones=st.just(VN)
)
_days = st.integers(min_value=1, max_value=120).map(lambda n: Decimal(n) / 2)
_cutoffs = st.one_of(st.none(), st.times())
_overrides = st.dictionaries(
    st.dates(min_value=dt.date(2025, 1, 1), max_value=dt.date(2028, 6, 30)), st.booleans(), max_size=30
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@example(received=at("10/03/2026", "18:00"), days=Decimal("0.5"), more=Decimal("0.5"), cutoff=dt.time(20), overrides={})
@given(received=_reception, days=_days, more=_days, cutoff=_cutoffs, overrides=_overrides)
def test_appointments_fall_on_working_days_after_reception_and_grow_with_the_period(
    received, days, more, cutoff, overrides
):
    calendar = WorkingCalendar(overrides)
    due = calendar.due_at(received, days, cutoff=cutoff)
    later = calendar.due_at(received, days + more, cutoff=cutoff)

    assert calendar.is_working_day(due.date())
    assert due > received
    assert later > due
    # The whole working days of the period are all there, and no more.
    start = calendar.effective_reception_day(received, cutoff or CLOSE)
    whole = int(days)
    if whole:
        counted = calendar.working_days_between(start, due.date())
        assert counted == (whole + 1 if days % 1 else whole)
