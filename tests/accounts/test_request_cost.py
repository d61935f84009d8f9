"""What every officer request pays before its view runs: session, user, second factor (issue 6).

The session row, its user, the user's confirmed devices and its memberships are read in one statement
(portal.accounts.sessions), so neither authentication nor the second-factor middleware makes a query of its own,
no request runs the staff check's membership EXISTS, and an officer's view knows its agencies. The budgets below are
those counts: a removed query that comes back fails here, and so does a device check that stops
seeing a deleted or disabled device.
"""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from dossiers import selectors
from portal.accounts.constants import Role
from portal.accounts.memberships import MEMBERSHIPS_ATTRIBUTE, read_memberships
from portal.accounts.middleware import LAST_ACTIVITY_KEY, TOUCH_INTERVAL_SECONDS
from portal.accounts.models import Session, User
from tests.dossiers import builders
from tests.factories import AgencyFactory, MembershipFactory, OfficerFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.accounts.urls_request_cost")]

TRIVIAL = "/can-bo/__trivial__/"
DEVICE = "/can-bo/__device__/"
QUEUE_API = "/api/officer/queue/"
QUEUE_PAGE = "/can-bo/ho-so/"
START = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)
# accounts_session joined with accounts_user, its confirmed device ids and its memberships.
BEFORE_THE_VIEW = 1
# The queue API's own: the holding range joined with its rows (on SQLite the range, then the rows).
QUEUE_API_OWN = {"postgresql": 1}.get(connection.vendor, 2)


@pytest.fixture(autouse=True)
def _second_factor_required(settings):
    settings.OTP_REQUIRED = True


@pytest.fixture
def traveller():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def _verified(client, user, device=None):
    device = device or TOTPDevice.objects.create(user=user, name="app", confirmed=True)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    client.get(TRIVIAL)  # the session's first request starts the idle clock (one session write)
    return device


def _get(client, path, **params):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, params)
    return response, [q["sql"] for q in queries]


def _assert_no_second_factor_queries(statements):
    joined = "\n".join(statements)
    assert '"otp_totp_totpdevice"."id"' not in joined  # django-otp's own device read
    assert 'SELECT 1 AS "a" FROM "accounts_membership"' not in joined  # the staff check's EXISTS
    assert not any(s.startswith("UPDATE") for s in statements)  # no session write


def test_an_officer_request_to_a_trivial_view_costs_the_session_and_the_user_only(client):
    officer = OfficerFactory()
    _verified(client, officer)

    response, statements = _get(client, TRIVIAL)

    assert response.status_code == 200
    assert response.json() == {"verified": True}
    assert len(statements) == BEFORE_THE_VIEW, statements
    _assert_no_second_factor_queries(statements)
    assert '"accounts_session"' in statements[0] and '"accounts_user"' in statements[0]


def test_request_user_otp_device_is_the_device_that_verified_the_session(client):
    officer = OfficerFactory()
    device = _verified(client, officer)

    response, statements = _get(client, DEVICE)

    assert response.json() == {"device": device.persistent_id}
    assert isinstance(response.wsgi_request.user.otp_device, TOTPDevice)
    assert len(statements) == BEFORE_THE_VIEW + 1  # read only because the view used it


def test_the_queue_api_adds_only_its_own_queries_to_the_officer_request(client):
    world = builders.make_world()
    for _n in range(3):
        builders.received(world)
    _verified(client, world.leader)

    response, statements = _get(client, QUEUE_API, tab="all", size=50)

    assert response.status_code == 200, response.content
    assert len(response.json()["results"]) == 3
    assert len(statements) == BEFORE_THE_VIEW + QUEUE_API_OWN, statements
    _assert_no_second_factor_queries(statements)


def _tree():
    """A province, a department below it, a unit below that, and a commune beside them."""
    province = AgencyFactory(province=True)
    department = AgencyFactory(parent=province, name="Sở Xây dựng")
    unit = AgencyFactory(parent=department, name="Phòng Quản lý xây dựng")
    commune = AgencyFactory(parent=province, name="UBND xã Bên Cạnh")
    return province, department, unit, commune


def test_memberships_are_each_agency_and_every_unit_below_it_per_role():
    _province, department, unit, commune = _tree()
    officer = UserFactory()
    MembershipFactory(user=officer, agency=department, role=Role.RECEPTION)
    MembershipFactory(user=officer, agency=commune, role=Role.RECEPTION)
    MembershipFactory(user=officer, agency=unit, role=Role.LEADER)

    assert read_memberships(officer.pk) == {
        Role.RECEPTION: frozenset({department.pk, unit.pk, commune.pk}),
        Role.LEADER: frozenset({unit.pk}),
    }
    assert read_memberships(UserFactory().pk) == {}
    # The same as the user's own lookup, one role at a time.
    for role in (Role.RECEPTION, Role.LEADER, Role.SPECIALIST):
        assert set(read_memberships(officer.pk).get(role, ())) == User.objects.get(pk=officer.pk).agency_ids(role)


def test_the_session_statement_reads_the_memberships_and_sees_a_change_at_the_next_request(client):
    _province, department, unit, commune = _tree()
    officer = OfficerFactory(membership__agency=department)
    _verified(client, officer)

    response, statements = _get(client, TRIVIAL)
    assert len(statements) == BEFORE_THE_VIEW
    assert getattr(response.wsgi_request.user, MEMBERSHIPS_ATTRIBUTE) == {Role.RECEPTION: {department.pk, unit.pk}}

    MembershipFactory(user=officer, agency=commune, role=Role.LEADER)
    officer.memberships.filter(agency=department).delete()
    response, statements = _get(client, TRIVIAL)
    assert len(statements) == BEFORE_THE_VIEW
    assert getattr(response.wsgi_request.user, MEMBERSHIPS_ATTRIBUTE) == {Role.LEADER: {commune.pk}}


def test_memberships_read_with_a_session_serve_its_request_once_then_are_read_afresh(client):
    """A user object kept after its request (a test handing it on, a cache) never serves stale memberships."""
    _province, department, unit, commune = _tree()
    officer = OfficerFactory(membership__agency=department)
    _verified(client, officer)
    user = client.get(TRIVIAL).wsgi_request.user

    with CaptureQueriesContext(connection) as first:
        selectors.remember_memberships(user)
    assert len(first) == 0
    MembershipFactory(user=officer, agency=commune, role=Role.LEADER)
    with CaptureQueriesContext(connection) as second:
        selectors.remember_memberships(user)
    assert len(second) == 1
    assert user.agency_ids(Role.LEADER) == {commune.pk}
    assert selectors.officer_agency_ids(user) == {department.pk, unit.pk, commune.pk}


def test_a_citizens_api_request_makes_no_staff_check_of_its_own(client):
    client.force_login(UserFactory())
    client.get("/api/dossiers/")

    response, statements = _get(client, "/api/dossiers/")

    assert response.status_code == 200
    assert not any('FROM "accounts_membership"' in s for s in statements[1:]), statements
    _assert_no_second_factor_queries(statements)


def test_an_officer_signed_in_with_a_recovery_code_is_verified_without_a_device_query(client):
    officer = OfficerFactory()
    recovery = StaticDevice.objects.create(user=officer, name="codes", confirmed=True)
    _verified(client, officer, device=recovery)

    response, statements = _get(client, TRIVIAL)

    assert response.json() == {"verified": True}
    assert len(statements) == BEFORE_THE_VIEW
    _assert_no_second_factor_queries(statements)
    assert client.get(DEVICE).json() == {"device": recovery.persistent_id}


@pytest.mark.parametrize("change", ["deleted", "disabled"])
def test_a_device_deleted_or_disabled_ends_the_verified_state_at_the_next_request(client, change):
    officer = OfficerFactory()
    device = _verified(client, officer)
    assert client.get(QUEUE_PAGE).status_code == 200

    if change == "deleted":
        device.delete()
    else:
        TOTPDevice.objects.filter(pk=device.pk).update(confirmed=False)

    page = client.get(QUEUE_PAGE)
    assert page.status_code == 302
    assert page["Location"].startswith(reverse("accounts:otp_enrol"))  # no confirmed device left
    assert client.get(QUEUE_API, {"tab": "all"}).status_code == 403
    assert DEVICE_ID_SESSION_KEY not in client.session  # django-otp's path forgets the device


def test_a_session_naming_another_persons_device_is_not_verified(client):
    officer = OfficerFactory()
    TOTPDevice.objects.create(user=officer, name="app", confirmed=True)
    stranger_device = TOTPDevice.objects.create(user=UserFactory(), name="app", confirmed=True)
    client.force_login(officer)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = stranger_device.persistent_id
    session.save()

    assert client.get(QUEUE_PAGE).status_code == 302
    assert client.get(QUEUE_API, {"tab": "all"}).status_code == 403


def test_a_membership_removed_makes_the_account_no_longer_staff_at_the_next_request(client):
    officer = OfficerFactory()
    client.force_login(officer)  # no second factor: staff are refused the officer pages
    assert client.get(TRIVIAL).status_code == 302

    officer.memberships.all().delete()

    assert client.get(TRIVIAL).status_code == 200


def test_the_idle_clock_is_written_at_most_once_a_minute(client, traveller):
    officer = OfficerFactory()
    _verified(client, officer)
    started = client.session[LAST_ACTIVITY_KEY]

    traveller.shift(datetime.timedelta(seconds=TOUCH_INTERVAL_SECONDS - 1))
    _response, statements = _get(client, TRIVIAL)
    assert not any(s.startswith("UPDATE") for s in statements)
    assert client.session[LAST_ACTIVITY_KEY] == started

    traveller.shift(datetime.timedelta(seconds=1))
    _response, statements = _get(client, TRIVIAL)
    assert sum(s.startswith("UPDATE") for s in statements) == 1  # the session row, once
    assert client.session[LAST_ACTIVITY_KEY] == started + TOUCH_INTERVAL_SECONDS


def test_with_throttled_writes_an_idle_session_still_ends_after_30_minutes(client, traveller):
    officer = OfficerFactory()
    _verified(client, officer)
    for _n in range(3):  # at 20 s and 40 s nothing is written; at 60 s the clock moves on
        traveller.shift(datetime.timedelta(seconds=20))
        assert client.get(TRIVIAL).json() == {"verified": True}
    assert client.session[LAST_ACTIVITY_KEY] == int(START.timestamp()) + 60

    traveller.shift(datetime.timedelta(minutes=29))
    assert client.get(TRIVIAL).json() == {"verified": True}

    traveller.shift(datetime.timedelta(minutes=31))
    assert client.get(TRIVIAL).json() == {"verified": False}
    assert "_auth_user_id" not in client.session


def test_the_session_row_names_its_user_from_login_to_logout(client):
    citizen = UserFactory()
    client.force_login(citizen)
    key = client.session.session_key
    assert Session.objects.get(session_key=key).user_id == citizen.pk

    client.post(reverse("accounts:logout"))

    assert not Session.objects.filter(session_key=key).exists()
    assert not Session.objects.filter(user=citizen).exists()


def test_an_account_deactivated_is_logged_out_at_its_next_request(client):
    officer = OfficerFactory()
    _verified(client, officer)
    User.objects.filter(pk=officer.pk).update(is_active=False)

    response = client.get(TRIVIAL)
    assert response.json() == {"verified": False}
    assert not response.wsgi_request.user.is_authenticated


def test_a_password_changed_elsewhere_ends_the_session_read_with_its_user(client):
    officer = OfficerFactory()
    _verified(client, officer)
    officer.set_password("một mật khẩu mới rất dài")
    officer.save()

    response = client.get(TRIVIAL)
    assert not response.wsgi_request.user.is_authenticated  # the session hash no longer matches
    assert "_auth_user_id" not in client.session


def test_a_session_row_naming_another_user_in_its_column_gives_no_one_that_user(client):
    """The user read with the row counts only when it is the one the session's data names."""
    officer, other = OfficerFactory(), OfficerFactory()
    _verified(client, officer)
    Session.objects.filter(session_key=client.session.session_key).update(user=other)

    response, statements = _get(client, TRIVIAL)

    assert response.wsgi_request.user == officer
    assert len(statements) == BEFORE_THE_VIEW + 1  # the user read again, by the id in the data
