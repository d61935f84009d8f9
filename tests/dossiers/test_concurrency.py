"""Officers acting at the same moment (ASVS 11.1.6): exactly one action takes effect, and codes
given out at once are all different and follow each other.

Each thread has its own database connection (closed at its end) and the test data is committed
(transaction=True), so the threads really race inside PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.db import OperationalError, connection, transaction

from dossiers import services
from dossiers.constants import Action, DossierState, FileKind, FormNumber
from dossiers.models import Dossier, DossierCodeSequence, DossierEvent, SideEffect
from dossiers.services import ConflictError, NotAllowedError
from portal.accounts.constants import Role
from procedures.constants import StepRole
from tests.dossiers import builders
from tests.dossiers.builders import PDF_BYTES, World
from tests.factories import (
    AgencyFactory,
    FeeItemFactory,
    FormFieldFactory,
    OfficerFactory,
    ProcedureFactory,
    ProcessingStepFactory,
    RequiredDocumentFactory,
    UserFactory,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

VN = ZoneInfo(settings.TIME_ZONE)
MONDAY = dt.datetime(2026, 3, 2, 9, 0, tzinfo=VN)
IDENTIFIER = "000.00.12.H56"


@pytest.fixture(autouse=True)
def _monday(time_machine):
    # Time runs (threads wait on each other) but the day is known, and so are the codes.
    time_machine.move_to(MONDAY, tick=True)


@pytest.fixture(autouse=True)
def _cheap_forms(monkeypatch):
    """Forms are a fixed small PDF here: rendering is the form tests' business and slow."""
    monkeypatch.setattr("dossiers.pdf.render_dossier_form", lambda dossier, number, **extra: PDF_BYTES)


def make_world(*, fee: int = 0, fee_first: bool = False) -> World:
    agency = AgencyFactory(name="UBND phường Hoa Lư", identifier=IDENTIFIER)
    procedure = ProcedureFactory(
        name="Đăng ký kinh doanh hộ cá thể",
        agencies=[agency],
        processing_days=Decimal("3"),
        fee_before_processing=fee_first,
    )
    FormFieldFactory(procedure=procedure, code="ten_ho_kinh_doanh", label="Tên hộ kinh doanh", order=1)
    RequiredDocumentFactory(procedure=procedure, name="Giấy đề nghị đăng ký hộ kinh doanh", order=1)
    if fee:
        FeeItemFactory(procedure=procedure, name="Lệ phí đăng ký", amount=fee)
    for order, name, role in [
        (1, "Tiếp nhận", StepRole.RECEPTION),
        (2, "Thẩm định", StepRole.SPECIALIST),
        (3, "Phê duyệt", StepRole.LEADER),
    ]:
        ProcessingStepFactory(procedure=procedure, order=order, name=name, role=role, duration_days=Decimal("0.5"))
    return World(
        agency=agency,
        procedure=procedure,
        citizen=UserFactory(full_name="Lê Văn Công"),
        reception=OfficerFactory(role=Role.RECEPTION, membership__agency=agency, full_name="Cán bộ Một Cửa"),
        specialist=OfficerFactory(role=Role.SPECIALIST, membership__agency=agency, full_name="Chuyên Viên"),
        leader=OfficerFactory(role=Role.LEADER, membership__agency=agency, full_name="Lãnh Đạo"),
    )


def colleague(world: World, role: str):
    return OfficerFactory(role=role, membership__agency=world.agency, full_name="Đồng Nghiệp")


def in_own_connection(call: Callable[[], object]) -> Callable[[], object]:
    """The call as a thread runs it: its own connection, closed at the end; the outcome, raised or returned."""

    def run() -> object:
        try:
            return call()
        except (ConflictError, NotAllowedError) as exc:
            return exc
        finally:
            connection.close()

    return run


def all_at_once(*calls: Callable[[], object]) -> list[object]:
    """Start every call in its own thread at the same moment; the outcome of each, in order."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[object] = [None] * len(calls)
    errors: list[BaseException] = []

    def worker(index: int, call: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=30)
            outcomes[index] = in_own_connection(call)()
        except BaseException as exc:  # noqa: BLE001 - an unexpected error is re-raised in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck (a deadlock?)"
    if errors:
        raise errors[0]
    return outcomes


def one_winner(outcomes: list[object]) -> Dossier:
    winners = [o for o in outcomes if isinstance(o, Dossier)]
    losers = [o for o in outcomes if not isinstance(o, Dossier)]
    assert len(winners) == 1, outcomes
    assert all(isinstance(o, ConflictError | NotAllowedError) for o in losers), losers
    return winners[0]


@pytest.mark.parametrize("with_version", [True, False], ids=["same-expected-version", "no-expected-version"])
def test_two_officers_receiving_the_same_dossier_at_once_receive_it_once(with_version):
    world = make_world()
    other = colleague(world, Role.RECEPTION)
    dossier = builders.submitted(world)
    start_version = dossier.version
    version = start_version if with_version else None

    outcomes = all_at_once(
        *(
            lambda officer=officer: services.dossier_receive(dossier=dossier, officer=officer, expected_version=version)
            for officer in (world.reception, other)
        )
    )

    winner = one_winner(outcomes)
    dossier = Dossier.objects.get(pk=dossier.pk)
    assert dossier.state == DossierState.RECEIVED
    assert dossier.code == winner.code == f"{IDENTIFIER}-260302-0001"
    assert dossier.version == start_version + 1
    assert DossierEvent.objects.filter(dossier=dossier, action=Action.RECEIVE).count() == 1
    assert DossierCodeSequence.objects.get(agency=world.agency).last == 1
    # One Form 01 owed, rendered once by the worker's task (delivered twice here, as a retry would be).
    assert SideEffect.objects.filter(dossier=dossier, kind="issue_form").count() == 1
    assert builders.issue_pending_forms(dossier) == ["done"]
    assert builders.issue_pending_forms(dossier) == []
    assert dossier.files.filter(kind=FileKind.FORM, form_number=FormNumber.RECEIPT).count() == 1
    assert dossier.steps.count() == 3
    assert SideEffect.objects.filter(dossier=dossier, payload__event="received").count() == 1


def test_twenty_dossiers_received_in_parallel_get_twenty_consecutive_codes():
    world = make_world()
    officers = [world.reception, colleague(world, Role.RECEPTION), colleague(world, Role.RECEPTION)]
    dossiers = [builders.submitted(world) for _ in range(20)]
    barrier = threading.Barrier(6)

    def receive(index: int) -> object:
        if index < 6:
            barrier.wait(timeout=30)  # the first six start together
        return in_own_connection(
            lambda: services.dossier_receive(dossier=dossiers[index], officer=officers[index % len(officers)])
        )()

    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = list(pool.map(receive, range(20)))

    assert all(isinstance(o, Dossier) for o in outcomes), outcomes
    codes = list(Dossier.objects.filter(agency=world.agency).values_list("code", flat=True))
    assert len(set(codes)) == 20
    pattern = re.compile(rf"{re.escape(IDENTIFIER)}-260302-(\d{{4}})")
    assert all(pattern.fullmatch(code) for code in codes), codes
    assert sorted(int(pattern.fullmatch(code).group(1)) for code in codes) == list(range(1, 21))
    assert DossierCodeSequence.objects.get(agency=world.agency).last == 20
    assert DossierEvent.objects.filter(action=Action.RECEIVE).count() == 20


@pytest.mark.parametrize("with_version", [True, False], ids=["same-expected-version", "no-expected-version"])
def test_two_leaders_approving_at_once_approve_once(with_version):
    world = make_world()
    other = colleague(world, Role.LEADER)
    dossier = builders.awaiting_approval(world)
    version = dossier.version if with_version else None

    outcomes = all_at_once(
        *(
            lambda leader=leader: services.dossier_approve(dossier=dossier, officer=leader, expected_version=version)
            for leader in (world.leader, other)
        )
    )

    winner = one_winner(outcomes)
    dossier = Dossier.objects.get(pk=dossier.pk)
    assert dossier.state == DossierState.RESULT_READY
    events = DossierEvent.objects.filter(dossier=dossier, action=Action.APPROVE)
    assert events.count() == 1
    assert events.get().actor == winner.events.get(action=Action.APPROVE).actor
    assert SideEffect.objects.filter(dossier=dossier, payload__event="result_ready").count() == 1


def test_two_payment_confirmations_at_once_record_the_payment_once():
    world = make_world(fee=50_000, fee_first=True)
    other = colleague(world, Role.RECEPTION)
    dossier = builders.received(world)
    assert dossier.state == DossierState.AWAITING_PAYMENT

    outcomes = all_at_once(
        *(
            lambda officer=officer, receipt=receipt: services.dossier_record_payment(
                dossier=dossier, officer=officer, amount=50_000, receipt_number=receipt
            )
            for officer, receipt in ((world.reception, "BL-0001"), (other, "BL-0002"))
        )
    )

    one_winner(outcomes)
    dossier = Dossier.objects.get(pk=dossier.pk)
    assert dossier.state == DossierState.RECEIVED
    assert DossierEvent.objects.filter(dossier=dossier, action=Action.RECORD_PAYMENT).count() == 1
    assert dossier.files.filter(form_number=FormNumber.RECEIPT).count() == 1
    assert dossier.pauses.get().ended_at == dossier.fee_paid_at


def test_an_action_on_one_dossier_does_not_wait_for_another_dossier_of_the_same_agency(monkeypatch):
    world = make_world()
    first, second = builders.submitted(world), builders.submitted(world)
    inside, release = threading.Event(), threading.Event()

    def form(dossier, number, **extra):
        if dossier.pk == first.pk:  # the reception of the first dossier stays open for a while
            inside.set()
            release.wait(timeout=30)
        return PDF_BYTES

    monkeypatch.setattr("dossiers.pdf.render_dossier_form", form)
    outcomes: dict[str, object] = {}

    def receive_first() -> None:
        # The reception, then its Form 01 rendered by the worker's task (which stays open for a while).
        def receive_and_render() -> Dossier:
            received = services.dossier_receive(dossier=first, officer=world.reception)
            builders.issue_pending_forms(received)
            return received

        outcomes["first"] = in_own_connection(receive_and_render)()

    def ask_supplement_for_second() -> object:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '2s'")
            return services.dossier_request_supplement(
                dossier=second, officer=world.reception, items=["Bản sao CCCD"], reason="Thiếu bản sao CCCD"
            )

    holder = threading.Thread(target=receive_first)
    holder.start()
    try:
        assert inside.wait(timeout=30)
        with ThreadPoolExecutor(max_workers=1) as pool:
            try:
                outcomes["second"] = pool.submit(in_own_connection(ask_supplement_for_second)).result(timeout=30)
            except OperationalError as exc:  # the lock timeout: the second dossier had to wait for the first
                outcomes["second"] = exc
    finally:
        release.set()
        holder.join(timeout=30)
    assert isinstance(outcomes["first"], Dossier)
    assert isinstance(outcomes["second"], Dossier), outcomes["second"]
