"""Issue 10 point 1: an agency administrator manages only the people wholly inside their agencies.

The attack of the issue: the provincial centre's agency administrator reset the password of an
officer who also works at a ward, logged in as them and read a ward dossier. Here every role meets
the user admin, and that attack is replayed step by step.
"""

import pytest
from django.core import mail
from django.db import connection, transaction
from django.urls import reverse

from portal.accounts.constants import Role
from portal.accounts.models import AccountEvent, Membership, User
from tests.factories import PASSWORD, AgencyFactory, MembershipFactory, OfficerFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    province = AgencyFactory(name="UBND tỉnh", identifier="000.00.00.H40")
    centre = AgencyFactory(name="Trung tâm Phục vụ hành chính công", parent=province, identifier="000.00.01.H40")
    ward = AgencyFactory(name="UBND phường Hoa Lư", parent=province, identifier="000.00.02.H40")
    centre_admin = OfficerFactory(
        role=Role.AGENCY_ADMIN, membership__agency=centre, username="qt.trungtam", is_staff=True
    )
    ward_admin = OfficerFactory(role=Role.AGENCY_ADMIN, membership__agency=ward, username="qt.phuong", is_staff=True)
    centre_officer = OfficerFactory(membership__agency=centre, username="cb.trungtam", email="cbtt@example.vn")
    shared_officer = OfficerFactory(membership__agency=centre, username="cb.chung", email="cbchung@example.vn")
    MembershipFactory(user=shared_officer, agency=ward, role=Role.SPECIALIST)
    ward_officer = OfficerFactory(membership__agency=ward, username="cb.phuong", email="cbp@example.vn")
    superuser = UserFactory(username="quantri", is_staff=True, is_superuser=True)
    # A system administrator who also holds an agency membership is still out of reach.
    MembershipFactory(user=superuser, agency=centre, role=Role.AGENCY_ADMIN)
    citizen = UserFactory(username="037192004517", cccd="037192004517", email="congdan@example.com")
    return {
        "centre": centre,
        "ward": ward,
        "system_admin": superuser,
        "centre_admin": centre_admin,
        "ward_admin": ward_admin,
        "officer": centre_officer,
        "shared_officer": shared_officer,
        "ward_officer": ward_officer,
        "citizen": citizen,
    }


def change_url(user):
    return reverse("admin:accounts_user_change", args=[user.pk])


def password_url(user):
    return reverse("admin:auth_user_password_change", args=[user.pk])


# Which accounts each role may open in the user admin (True = the change page, False = refused).
MANAGES = {
    "system_admin": {
        "officer": True,
        "shared_officer": True,
        "ward_officer": True,
        "system_admin": True,
        "citizen": True,
    },
    "centre_admin": {
        "officer": True,
        "shared_officer": False,
        "ward_officer": False,
        "system_admin": False,
        "citizen": False,
    },
    "ward_admin": {
        "officer": False,
        "shared_officer": False,
        "ward_officer": True,
        "system_admin": False,
        "citizen": False,
    },
}


@pytest.mark.parametrize(
    ("role", "target", "allowed"),
    [(role, target, allowed) for role, targets in MANAGES.items() for target, allowed in targets.items()],
)
def test_user_admin_opens_exactly_the_accounts_a_role_manages(client, people, role, target, allowed):
    client.force_login(people[role])
    response = client.get(change_url(people[target]))
    if allowed:
        assert response.status_code == 200
    else:
        # Django's admin answers "does not exist" by going back to the admin index.
        assert response.status_code == 302
        assert response.url == reverse("admin:index")
    listing = client.get(reverse("admin:accounts_user_changelist")).content.decode()
    assert (f">{people[target].username}<" in listing) is allowed


@pytest.mark.parametrize("role", ["officer", "citizen"])
def test_officers_and_citizens_never_enter_the_user_admin(client, people, role):
    client.force_login(people[role])
    for url in (
        reverse("admin:accounts_user_changelist"),
        change_url(people["officer"]),
        password_url(people["officer"]),
        reverse("admin:accounts_user_add"),
        reverse("admin:accounts_accountevent_changelist"),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("admin:login"))


@pytest.mark.parametrize("role", ["centre_admin", "ward_admin"])
def test_agency_admin_never_sets_a_password_even_of_their_own_officer(client, people, role):
    own = people["officer"] if role == "centre_admin" else people["ward_officer"]
    client.force_login(people[role])
    page = client.get(change_url(own)).content.decode()
    assert password_url(own) not in page
    assert client.get(password_url(own)).status_code == 403
    response = client.post(
        password_url(own), {"password1": "Mat-khau-cua-ke-xau-2026", "password2": "Mat-khau-cua-ke-xau-2026"}
    )
    assert response.status_code == 403
    own.refresh_from_db()
    assert own.check_password(PASSWORD)


def test_the_attack_of_the_issue_fails_at_every_step(client, people, django_capture_on_commit_callbacks):
    """Centre administrator against the officer who also works at the ward."""
    victim = people["shared_officer"]
    client.force_login(people["centre_admin"])
    # 1. Set their password directly.
    new = "Mat-khau-cua-ke-xau-2026"
    assert client.post(password_url(victim), {"password1": new, "password2": new}).status_code == 403
    # 2. Change their e-mail so that a reset link comes to the attacker.
    client.post(change_url(victim), {"email": "kexau@example.vn", "username": victim.username, "is_active": "on"})
    # 3. Send a reset link through the bulk action.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("admin:accounts_user_changelist"),
            {"action": "send_password_reset", "_selected_action": [victim.pk]},
        )
    # 4. Take the ward membership away, to bring the person inside their scope.
    ward_membership = Membership.objects.get(user=victim, agency=people["ward"])
    client.post(reverse("admin:accounts_membership_delete", args=[ward_membership.pk]), {"post": "yes"})
    client.post(
        reverse("admin:accounts_membership_changelist"),
        {"action": "delete_selected", "_selected_action": [ward_membership.pk], "post": "yes"},
    )
    victim.refresh_from_db()
    assert victim.check_password(PASSWORD)
    assert victim.email == "cbchung@example.vn"
    assert Membership.objects.filter(pk=ward_membership.pk).exists()
    assert mail.outbox == []
    assert not AccountEvent.objects.filter(subject_public_id=victim.public_id).exists()
    # And the person logs in with their own password as before.
    client.logout()
    response = client.post(reverse("accounts:login"), {"username": victim.username, "password": PASSWORD})
    assert response.status_code == 302


def test_agency_admin_cannot_reach_a_system_administrator_through_a_membership(client, people):
    client.force_login(people["centre_admin"])
    membership = Membership.objects.get(user=people["system_admin"])
    response = client.post(
        reverse("admin:accounts_membership_change", args=[membership.pk]),
        {"user": people["system_admin"].pk, "agency": people["centre"].pk, "role": Role.RECEPTION},
    )
    assert response.status_code in (302, 403)
    membership.refresh_from_db()
    assert membership.role == Role.AGENCY_ADMIN


def test_agency_admin_creates_an_officer_who_receives_a_reset_link_and_it_is_audited(
    client, people, django_capture_on_commit_callbacks
):
    client.force_login(people["centre_admin"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:accounts_user_add"),
            {
                "username": "motcua.moi",
                "full_name": "Cán Bộ Mới",
                "email": "motcua.moi@example.vn",
                "agency": people["centre"].pk,
                "role": Role.RECEPTION,
                # A password sent anyway is ignored: the form has no such field.
                "password1": PASSWORD,
                "password2": PASSWORD,
            },
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    officer = User.objects.get(username="motcua.moi")
    assert not officer.has_usable_password()
    assert [m.to for m in mail.outbox] == [["motcua.moi@example.vn"]]
    assert "/accounts/password-reset/" in mail.outbox[0].body
    actions = list(
        AccountEvent.objects.filter(subject_public_id=officer.public_id).order_by("id").values_list("action", flat=True)
    )
    assert actions == ["user_created", "membership_added", "password_reset_sent"]
    event = AccountEvent.objects.get(subject_public_id=officer.public_id, action="membership_added")
    assert event.actor_public_id == people["centre_admin"].public_id
    assert event.data["agency_id"] == people["centre"].pk


def test_agency_admin_sends_a_reset_link_to_their_officer_and_the_officer_chooses_the_password(
    client, people, django_capture_on_commit_callbacks
):
    officer = people["officer"]
    client.force_login(people["centre_admin"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:accounts_user_changelist"),
            {"action": "send_password_reset", "_selected_action": [officer.pk]},
        )
    assert response.status_code == 302
    assert [m.to for m in mail.outbox] == [[officer.email]]
    officer.refresh_from_db()
    assert officer.check_password(PASSWORD)  # nothing changes until the owner uses the link
    event = AccountEvent.objects.get(subject_public_id=officer.public_id)
    assert event.action == "password_reset_sent"
    assert event.actor_public_id == people["centre_admin"].public_id


def test_agency_admin_changes_to_an_officer_and_memberships_are_audited(client, people):
    officer = people["officer"]
    membership = officer.memberships.get()
    client.force_login(people["centre_admin"])
    response = client.post(
        change_url(officer),
        {
            "full_name": "Tên Mới",
            "date_of_birth": "",
            "gender": "",
            "address": "",
            "identity_level": "0",
            "is_active": "on",
            "memberships-TOTAL_FORMS": "2",
            "memberships-INITIAL_FORMS": "1",
            "memberships-0-id": membership.pk,
            "memberships-0-user": officer.pk,
            "memberships-0-agency": people["centre"].pk,
            "memberships-0-role": Role.RECEPTION,
            "memberships-1-user": officer.pk,
            "memberships-1-agency": people["centre"].pk,
            "memberships-1-role": Role.SPECIALIST,
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    events = {e.action: e for e in AccountEvent.objects.filter(subject_public_id=officer.public_id)}
    assert events["user_changed"].data == {"fields": ["full_name"]}
    assert events["membership_added"].data["role"] == Role.SPECIALIST


def test_agency_admin_cannot_change_the_identifiers_of_their_officer(client, people):
    officer = people["officer"]
    client.force_login(people["centre_admin"])
    client.post(
        change_url(officer),
        {
            "username": "doi-ten",
            "email": "kexau@example.vn",
            "full_name": officer.full_name,
            "identity_level": "0",
            "is_active": "on",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )
    officer.refresh_from_db()
    assert officer.username == "cb.trungtam"
    assert officer.email == "cbtt@example.vn"


def test_system_admin_setting_a_password_is_audited(client, people):
    client.force_login(people["system_admin"])
    new = "Mat-khau-moi-cua-quan-tri-2026"
    response = client.post(
        password_url(people["officer"]), {"password1": new, "password2": new, "usable_password": "true"}
    )
    assert response.status_code == 302
    event = AccountEvent.objects.get(subject_public_id=people["officer"].public_id)
    assert event.action == "password_set"
    assert new not in str(event.data)


def test_account_events_are_append_only(people):
    event = AccountEvent.objects.create(
        action="user_changed", subject_public_id=people["officer"].public_id, subject_username="cb.trungtam"
    )
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AccountEvent.objects.filter(pk=event.pk).update(action="user_deleted")
    with pytest.raises(PermissionError):
        AccountEvent.objects.all().delete()


@pytest.mark.postgres
def test_the_database_refuses_to_change_an_account_event(people):
    if connection.vendor != "postgresql":
        pytest.skip("the trigger exists on PostgreSQL only")
    event = AccountEvent.objects.create(
        action="user_changed", subject_public_id=people["officer"].public_id, subject_username="cb.trungtam"
    )
    from django.db import DatabaseError

    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE accounts_accountevent SET action = 'x' WHERE id = %s", [event.pk])
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM accounts_accountevent WHERE id = %s", [event.pk])
