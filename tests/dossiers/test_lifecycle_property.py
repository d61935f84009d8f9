"""The dossier lifecycle as a state machine (ASVS 11.1.1: steps in order, none skipped).

Hypothesis drives random sequences of every service action against a few dossiers of one agency:
each action by the person whose job it is, with random choices (a stale or missing expected
version, the right or a wrong fee, a file or none, a valid or an invalid new appointment, the clock
moving on, strangers trying their luck). Refusals are tolerated but must write nothing. After every
step the recorded history is checked against the django-fsm graph of the model.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings as django_settings
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from dossiers import selectors, services
from dossiers.constants import FINAL_STATES, RATING_CRITERIA, Action
from dossiers.constants import DossierState as S
from dossiers.filters import QueueFilterSet
from dossiers.holdings import holdings_for
from dossiers.models import Dossier, DossierHolding
from dossiers.services import ConflictError, DossierError, NotAllowedError
from notifications.selectors import alerts_due
from portal.accounts.constants import Role
from procedures.constants import AgencyKind, StepAgencyRule, StepRole
from procedures.text import normalize_search
from tests.dossiers import builders
from tests.dossiers.builders import PDF_BYTES, World, pdf_upload
from tests.dossiers.queue_reference import reference_alerts, reference_queue
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

VN = ZoneInfo(django_settings.TIME_ZONE)
START = dt.datetime(2026, 3, 2, 8, 0, tzinfo=VN)  # a Monday morning
FEE = 50_000
SCORES = dict.fromkeys(RATING_CRITERIA, 1)

# --- what the history may contain, from the model's django-fsm graph --------------------------

_TRANSITIONS = list(Dossier._meta.get_field("state").get_all_transitions(Dossier))


def _edges(*names: str) -> set[tuple[str, str]]:
    return {(t.source, t.target) for t in _TRANSITIONS if t.name in names}


EDGES: dict[str, set[tuple[str, str]]] = {
    Action.SUBMIT: _edges("submit"),
    Action.RECEIVE: _edges("receive")
    # With a fee to pay first, receive and wait_for_payment run in one service call and one event.
    | {(a, c) for a, b in _edges("receive") for b2, c in _edges("wait_for_payment") if b == b2},
    Action.REQUEST_SUPPLEMENT: _edges("request_supplement"),
    Action.SUPPLEMENT: _edges("supplement_at_reception", "supplement_after_appraisal"),
    Action.REFUSE: _edges("refuse_at_reception", "refuse_after_appraisal"),
    Action.RECORD_PAYMENT: _edges("payment_received"),
    Action.ASSIGN: _edges("assign"),
    Action.FORWARD: _edges("forward"),
    Action.SUBMIT_FOR_APPROVAL: _edges("submit_for_approval"),
    Action.SEND_BACK: _edges("send_back"),
    Action.APPROVE: _edges("approve"),
    Action.RETURN_RESULT: _edges("return_result"),
    Action.STOP: _edges("stop"),
    Action.WITHDRAW: _edges("withdraw"),
}
# Recorded without a change of state.
STATE_KEPT = {
    Action.CONSULT: {S.IN_PROCESSING},
    Action.APOLOGISE: {S.RECEIVED, S.IN_PROCESSING, S.AWAITING_APPROVAL},
    Action.RATE: {S.RETURNED},
}
AFTER_RECEPTION = {
    S.RECEIVED,
    S.AWAITING_PAYMENT,
    S.IN_PROCESSING,
    S.AWAITING_APPROVAL,
    S.REFUSED_AFTER_APPRAISAL,
    S.RESULT_READY,
    S.RETURNED,
}


def make_world(*, fee_first: bool, police: bool = False) -> World:
    """One agency, one officer per role; reception → two specialist steps → leader.

    With `police`, the first specialist step runs in parallel with a residence step routed at reception
    to the police of the resolving commune (StepAgencyRule.COMMUNE_POLICE, as 2.000986 in the demo);
    the police officer is `world.police_officer`.
    """
    agency = AgencyFactory(name="UBND phường Hoa Lư", kind=AgencyKind.COMMUNE)
    procedure = ProcedureFactory(
        name="Đăng ký kinh doanh hộ cá thể",
        agencies=[agency],
        processing_days=Decimal("3"),
        fee_before_processing=fee_first,
    )
    FormFieldFactory(procedure=procedure, code="ten_ho_kinh_doanh", label="Tên hộ kinh doanh", order=1)
    RequiredDocumentFactory(procedure=procedure, name="Giấy đề nghị đăng ký hộ kinh doanh", order=1)
    FeeItemFactory(procedure=procedure, name="Lệ phí đăng ký", amount=FEE)
    for order, name, role in [
        (1, "Tiếp nhận", StepRole.RECEPTION),
        (2, "Thẩm định", StepRole.SPECIALIST),
        (3, "Thẩm định liên phòng", StepRole.SPECIALIST),
        (4, "Phê duyệt", StepRole.LEADER),
    ]:
        ProcessingStepFactory(procedure=procedure, order=order, name=name, role=role, duration_days=Decimal("0.5"))
    commune_police = None
    if police:
        commune_police = AgencyFactory(name="Công an phường Hoa Lư", kind=AgencyKind.POLICE, locality=agency)
        ProcessingStepFactory(
            procedure=procedure,
            order=2,
            name="Công an cấp xã đăng ký thường trú",
            role=StepRole.SPECIALIST,
            duration_days=Decimal("1"),
            agency_rule=StepAgencyRule.COMMUNE_POLICE,
        )
    world = World(
        agency=agency,
        procedure=procedure,
        citizen=UserFactory(full_name="Lê Văn Công"),
        reception=OfficerFactory(role=Role.RECEPTION, membership__agency=agency, full_name="Cán bộ Một Cửa"),
        specialist=OfficerFactory(role=Role.SPECIALIST, membership__agency=agency, full_name="Chuyên Viên"),
        leader=OfficerFactory(role=Role.LEADER, membership__agency=agency, full_name="Lãnh Đạo"),
    )
    world.police_officer = (
        OfficerFactory(role=Role.SPECIALIST, membership__agency=commune_police, full_name="Cán Bộ Công An")
        if police
        else None
    )
    return world


def _open_police_step(world: World, dossier: Dossier):
    if world.police_officer is None:
        return None
    return dossier.steps.filter(
        agency__kind=AgencyKind.POLICE, started_at__isnull=False, completed_at__isnull=True
    ).first()


def _police_if_asked(world: World, dossier: Dossier) -> Dossier:
    """The commune police completes its parallel step, when the dossier has one running."""
    step = _open_police_step(world, dossier)
    if step is None:
        return dossier
    return services.dossier_forward(dossier=dossier, officer=world.police_officer, step=step)


def _pay_if_asked(world: World, dossier: Dossier) -> Dossier:
    if dossier.state != S.AWAITING_PAYMENT:
        return dossier
    return services.dossier_record_payment(dossier=dossier, officer=world.reception, amount=FEE, receipt_number="BL-1")


HAPPY_PATH = [
    lambda w, d: services.dossier_submit(dossier=d, user=w.citizen),
    lambda w, d: services.dossier_receive(dossier=d, officer=w.reception),
    _pay_if_asked,
    lambda w, d: services.dossier_assign(dossier=d, actor=w.leader, assignee=w.specialist),
    _police_if_asked,
    lambda w, d: services.dossier_submit_for_approval(dossier=d, officer=w.specialist, result_upload=pdf_upload()),
    lambda w, d: services.dossier_approve(dossier=d, officer=w.leader),
    lambda w, d: services.dossier_return_result(dossier=d, actor=w.reception, channel="counter"),
]
# Where each action starts from, read from the graph above.
SOURCES = {
    **{action: {source for source, _target in edges} for action, edges in EDGES.items()},
    **STATE_KEPT,
}


def plausible(action: str):
    """Run the rule only while some dossier is in a state the action starts from (the rule then acts
    on one of those); the `misfire` rule tries every action from any state."""
    return precondition(lambda self: any(state in SOURCES[action] for state in self.states.values()))


INTRUSIONS = [
    *(f"citizen {verb}" for verb in ("submits", "withdraws", "supplements", "rates", "downloads")),
    *(
        f"officer {verb}"
        for verb in (
            "receives",
            "assigns",
            "forwards",
            "proposes",
            "approves",
            "refuses",
            "stops",
            "apologises",
            "returns",
        )
    ),
]
pick = st.integers(min_value=0, max_value=1)  # which dossier of the candidates, modulo their number
versions = st.sampled_from(["current", "current", "none", "stale"])


class DossierLifecycle(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.dossier_ids: list[int] = []
        self.states: dict[int, str] = {}  # as of the end of the last step
        self.final: dict[int, str] = {}
        self.seen: dict[int, tuple[int, int]] = {}  # dossier -> (events, version) as of the last step

    # --- set-up and the way every action is called -------------------------------------------

    @initialize(
        fee_first=st.booleans(),
        hours=st.integers(min_value=0, max_value=120),
        steps=st.integers(min_value=0, max_value=len(HAPPY_PATH)),
        police=st.booleans(),
    )
    def make_world(self, fee_first, hours, steps, police):
        # Each example in a savepoint of its own, rolled back at its end: examples stay independent
        # even when one of them fails half-way.
        self.example = transaction.atomic()
        self.example.__enter__()
        self.traveller = time_machine.travel(START + dt.timedelta(hours=hours), tick=False)
        self.clock = self.traveller.start()
        self.world = make_world(fee_first=fee_first, police=police)
        self.stranger = UserFactory(full_name="Người Lạ")
        outsider_agency = AgencyFactory(name="UBND xã Bên Cạnh")
        self.outsiders = {
            role: OfficerFactory(role=role, membership__agency=outsider_agency)
            for role in (Role.RECEPTION, Role.SPECIALIST, Role.LEADER)
        }
        self.create(steps)

    def teardown(self):
        if getattr(self, "traveller", None) is not None:
            self.traveller.stop()
        if getattr(self, "example", None) is not None:
            transaction.set_rollback(True)
            self.example.__exit__(None, None, None)

    def choose(self, action: str | None, index: int) -> int:
        """A dossier the action could start from (any dossier when action is None)."""
        candidates = [pk for pk in self.dossier_ids if action is None or self.states[pk] in SOURCES[action]]
        return (candidates or self.dossier_ids)[index % len(candidates or self.dossier_ids)]

    def act(self, pk: int, version: str, call, *, refused: type[DossierError] | None = None) -> None:
        """Call a service on one dossier; a refusal must leave the dossier and its history as they were."""
        dossier = Dossier.objects.get(pk=pk)
        expected = {"current": dossier.version, "none": None, "stale": dossier.version - 1}[version]
        before = (dossier.state, dossier.version, dossier.events.count(), dossier.files.count())
        try:
            call(dossier, expected)
        except DossierError as exc:
            after = Dossier.objects.get(pk=pk)
            assert (after.state, after.version, after.events.count(), after.files.count()) == before, exc.message
            if version == "stale":
                assert isinstance(exc, ConflictError), exc.message
            if refused is not None:
                assert isinstance(exc, refused), exc.message
            return
        assert version != "stale", "an action with a stale expected version took effect"
        assert refused is None, "an action that must be refused took effect"

    @rule(
        name=st.sampled_from(
            [
                "submit",
                "withdraw",
                "supplement",
                "rate",
                "receive",
                "record_payment",
                "return_result",
                "stop",
                "request_supplement",
                "refuse",
                "assign",
                "forward",
                "consult",
                "submit_for_approval",
                "send_back",
                "approve",
                "apologise",
            ]
        ),
        i=pick,
        version=versions,
    )
    def misfire(self, name, i, version):
        """Any action on any dossier, whatever its state: refused, or done as the graph allows."""
        getattr(self, name)(i=i, version=version, anywhere=True)

    # --- the applicant ----------------------------------------------------------------------------

    @precondition(lambda self: len(self.dossier_ids) < 2)
    @rule(steps=st.integers(min_value=0, max_value=len(HAPPY_PATH)))
    def create(self, steps):
        """A new dossier, taken some way along the usual path so that later states get explored too."""
        dossier = builders.draft(self.world)
        for step in HAPPY_PATH[:steps]:
            dossier = step(self.world, dossier)
        self.dossier_ids.append(dossier.pk)
        self.states[dossier.pk] = dossier.state

    @plausible(Action.SUBMIT)
    @rule(i=pick, version=versions)
    def submit(self, i, version, anywhere=False):
        self.act(
            self.choose(None if anywhere else Action.SUBMIT, i),
            version,
            lambda d, v: services.dossier_submit(dossier=d, user=self.world.citizen, expected_version=v),
        )

    @plausible(Action.WITHDRAW)
    @rule(i=pick, version=versions)
    def withdraw(self, i, version, anywhere=False):
        self.act(
            self.choose(None if anywhere else Action.WITHDRAW, i),
            version,
            lambda d, v: services.dossier_withdraw(dossier=d, user=self.world.citizen, expected_version=v),
        )

    @plausible(Action.SUPPLEMENT)
    @rule(i=pick, version=versions, with_file=st.booleans(), note=st.sampled_from(["", "Đã bổ sung bản sao"]))
    def supplement(self, i, version, with_file=False, note="Đã bổ sung bản sao", anywhere=False):
        pk = self.choose(None if anywhere else Action.SUPPLEMENT, i)
        if with_file:
            # Refused unless the dossier is a draft or waits for a supplement: the supplement decides.
            with contextlib.suppress(DossierError):
                services.dossier_attach_file(
                    dossier=pk, user=self.world.citizen, requirement_id=1, upload=pdf_upload("bo-sung.pdf")
                )
        self.act(
            pk,
            version,
            lambda d, v: services.dossier_supplement(dossier=d, user=self.world.citizen, note=note, expected_version=v),
        )

    @plausible(Action.RATE)
    @rule(i=pick)
    def rate(self, i, version="none", anywhere=False):
        self.act(
            self.choose(None if anywhere else Action.RATE, i),
            "none",
            lambda d, v: services.dossier_rate(dossier=d, user=self.world.citizen, scores=SCORES),
        )

    # --- the one-stop officer ---------------------------------------------------------------------

    @plausible(Action.RECEIVE)
    @rule(i=pick, version=versions)
    def receive(self, i, version, anywhere=False):
        self.act(
            self.choose(None if anywhere else Action.RECEIVE, i),
            version,
            lambda d, v: services.dossier_receive(dossier=d, officer=self.world.reception, expected_version=v),
        )

    @plausible(Action.RECORD_PAYMENT)
    @rule(i=pick, version=versions, right=st.booleans())
    def record_payment(self, i, version, right=True, anywhere=False):
        self.act(
            self.choose(None if anywhere else Action.RECORD_PAYMENT, i),
            version,
            lambda d, v: services.dossier_record_payment(
                dossier=d,
                officer=self.world.reception,
                amount=FEE if right else FEE - 1000,
                receipt_number="BL-0001",
                expected_version=v,
            ),
        )

    @plausible(Action.RETURN_RESULT)
    @rule(i=pick, version=versions, channel=st.sampled_from(["counter", "download"]))
    def return_result(self, i, version, channel="counter", anywhere=False):
        actor = self.world.citizen if channel == "download" else self.world.reception
        self.act(
            self.choose(None if anywhere else Action.RETURN_RESULT, i),
            version,
            lambda d, v: services.dossier_return_result(dossier=d, actor=actor, channel=channel, expected_version=v),
        )

    @plausible(Action.STOP)
    @rule(i=pick, version=versions)
    def stop(self, i, version, anywhere=False):
        self.act(
            self.choose(None if anywhere else Action.STOP, i),
            version,
            lambda d, v: services.dossier_stop(
                dossier=d, officer=self.world.reception, reason="Người nộp đề nghị dừng", expected_version=v
            ),
        )

    # --- whoever the step belongs to --------------------------------------------------------------

    @plausible(Action.REQUEST_SUPPLEMENT)
    @rule(i=pick, version=versions, by=st.sampled_from(["reception", "specialist", "leader"]))
    def request_supplement(self, i, version, by="specialist", anywhere=False):
        self.act(
            self.choose(None if anywhere else Action.REQUEST_SUPPLEMENT, i),
            version,
            lambda d, v: services.dossier_request_supplement(
                dossier=d,
                officer=getattr(self.world, by),
                items=["Bản sao giấy tờ nhà đất"],
                reason="Thiếu giấy tờ",
                expected_version=v,
            ),
        )

    @plausible(Action.REFUSE)
    @rule(i=pick, version=versions, by=st.sampled_from(["reception", "leader"]))
    def refuse(self, i, version, by="leader", anywhere=False):
        self.act(
            self.choose(None if anywhere else Action.REFUSE, i),
            version,
            lambda d, v: services.dossier_refuse(
                dossier=d, officer=getattr(self.world, by), reason="Không đủ điều kiện", expected_version=v
            ),
        )

    @plausible(Action.ASSIGN)
    @rule(i=pick, version=versions, by=st.sampled_from(["leader", "reception", "specialist"]))
    def assign(self, i, version, by="leader", anywhere=False):
        self.act(
            self.choose(None if anywhere else Action.ASSIGN, i),
            version,
            lambda d, v: services.dossier_assign(
                dossier=d, actor=getattr(self.world, by), assignee=self.world.specialist, expected_version=v
            ),
        )

    @plausible(Action.FORWARD)
    @rule(i=pick, version=versions)
    def forward(self, i, version, anywhere=False):
        self.act(
            self.choose(None if anywhere else Action.FORWARD, i),
            version,
            lambda d, v: services.dossier_forward(dossier=d, officer=self.world.specialist, expected_version=v),
        )

    @plausible(Action.FORWARD)
    @rule(i=pick, version=versions)
    def police_forward(self, i, version):
        """The commune police completes its parallel residence step (refused where none is running)."""
        if self.world.police_officer is None:
            return
        pk = self.choose(Action.FORWARD, i)

        def call(d, v):
            step = _open_police_step(self.world, d) or d.steps.filter(agency__kind=AgencyKind.POLICE).first()
            return services.dossier_forward(dossier=d, officer=self.world.police_officer, step=step, expected_version=v)

        self.act(pk, version, call)

    @plausible(Action.CONSULT)
    @rule(i=pick, version=versions)
    def consult(self, i, version, anywhere=False):
        self.act(
            self.choose(None if anywhere else Action.CONSULT, i),
            version,
            lambda d, v: services.dossier_consult(
                dossier=d,
                officer=self.world.specialist,
                agency=self.world.agency,
                question="Đề nghị cho ý kiến",
                deadline=dt.datetime(2026, 3, 20, 17, tzinfo=VN),
                expected_version=v,
            ),
        )

    @plausible(Action.SUBMIT_FOR_APPROVAL)
    @rule(i=pick, version=versions, with_upload=st.booleans())
    def submit_for_approval(self, i, version, with_upload=True, anywhere=False):
        self.act(
            self.choose(None if anywhere else Action.SUBMIT_FOR_APPROVAL, i),
            version,
            lambda d, v: services.dossier_submit_for_approval(
                dossier=d,
                officer=self.world.specialist,
                result_upload=pdf_upload("du-thao.pdf") if with_upload else None,
                expected_version=v,
            ),
        )

    @plausible(Action.SEND_BACK)
    @rule(i=pick, version=versions)
    def send_back(self, i, version, anywhere=False):
        self.act(
            self.choose(None if anywhere else Action.SEND_BACK, i),
            version,
            lambda d, v: services.dossier_send_back(
                dossier=d, officer=self.world.leader, reason="Sửa trích yếu", expected_version=v
            ),
        )

    @plausible(Action.APPROVE)
    @rule(i=pick, version=versions)
    def approve(self, i, version, anywhere=False):
        self.act(
            self.choose(None if anywhere else Action.APPROVE, i),
            version,
            lambda d, v: services.dossier_approve(dossier=d, officer=self.world.leader, expected_version=v),
        )

    @plausible(Action.APOLOGISE)
    @rule(i=pick, version=versions, days=st.integers(min_value=-2, max_value=10))
    def apologise(self, i, version, days=3, anywhere=False):
        def call(d, v):
            due = d.current_due_at or timezone.now()
            return services.dossier_apologise(
                dossier=d,
                officer=self.world.leader,
                new_due_at=due + dt.timedelta(days=days),
                reason="Chờ ý kiến phối hợp",
                expected_version=v,
            )

        self.act(self.choose(None if anywhere else Action.APOLOGISE, i), version, call)

    # --- people without any business with the dossier ----------------------------------------

    @rule(i=pick, what=st.sampled_from(INTRUSIONS))
    def intruder_tries(self, i, what):
        """Another citizen, or an officer of another agency: always refused, nothing written."""
        citizen = self.stranger
        reception, specialist, leader = (self.outsiders[r] for r in (Role.RECEPTION, Role.SPECIALIST, Role.LEADER))
        later = dt.datetime(2026, 12, 31, 17, tzinfo=VN)
        calls = {
            "citizen submits": lambda d, v: services.dossier_submit(dossier=d, user=citizen, expected_version=v),
            "citizen withdraws": lambda d, v: services.dossier_withdraw(dossier=d, user=citizen, expected_version=v),
            "citizen supplements": lambda d, v: services.dossier_supplement(
                dossier=d, user=citizen, note="x", expected_version=v
            ),
            "citizen rates": lambda d, v: services.dossier_rate(dossier=d, user=citizen, scores=SCORES),
            "citizen downloads": lambda d, v: services.dossier_return_result(
                dossier=d, actor=citizen, channel="download", expected_version=v
            ),
            "officer receives": lambda d, v: services.dossier_receive(dossier=d, officer=reception, expected_version=v),
            "officer assigns": lambda d, v: services.dossier_assign(
                dossier=d, actor=leader, assignee=self.world.specialist, expected_version=v
            ),
            "officer forwards": lambda d, v: services.dossier_forward(
                dossier=d, officer=specialist, expected_version=v
            ),
            "officer proposes": lambda d, v: services.dossier_submit_for_approval(
                dossier=d, officer=specialist, result_upload=pdf_upload(), expected_version=v
            ),
            "officer approves": lambda d, v: services.dossier_approve(dossier=d, officer=leader, expected_version=v),
            "officer refuses": lambda d, v: services.dossier_refuse(
                dossier=d, officer=leader, reason="x", expected_version=v
            ),
            "officer stops": lambda d, v: services.dossier_stop(
                dossier=d, officer=reception, reason="x", expected_version=v
            ),
            "officer apologises": lambda d, v: services.dossier_apologise(
                dossier=d, officer=leader, new_due_at=later, reason="x", expected_version=v
            ),
            "officer returns": lambda d, v: services.dossier_return_result(
                dossier=d, actor=reception, channel="counter", expected_version=v
            ),
        }
        self.act(self.choose(None, i), "current", calls[what], refused=NotAllowedError)

    # --- time -------------------------------------------------------------------------------------

    @rule(hours=st.integers(min_value=1, max_value=80))
    def time_passes(self, hours):
        self.clock.shift(dt.timedelta(hours=hours))

    # --- invariants -------------------------------------------------------------------------------

    @invariant()
    def histories_follow_the_graph(self):
        for dossier in Dossier.objects.filter(pk__in=self.dossier_ids):
            self.states[dossier.pk] = dossier.state
            events = list(dossier.events.order_by("created_at", "id"))
            assert (events[0].action, events[0].from_state, events[0].to_state) == (Action.CREATE, "", S.DRAFT)
            for previous, event in itertools.pairwise(events):
                assert event.from_state == previous.to_state, (previous.action, event.action)
                edge = (event.from_state, event.to_state)
                if event.action in STATE_KEPT:
                    assert event.from_state == event.to_state and event.to_state in STATE_KEPT[event.action], edge
                else:
                    assert edge in EDGES[event.action], (event.action, edge)
            assert events[-1].to_state == dossier.state
            self._check_reception(dossier, events)
            self._check_path_to_result(dossier, events)
            self._check_final(dossier, events)
            self._check_version(dossier, events)

    def _check_reception(self, dossier: Dossier, events) -> None:
        """Never received (nor anything after it) without a code and the time of submission."""
        if dossier.state in AFTER_RECEPTION or any(e.to_state == S.RECEIVED for e in events):
            assert dossier.code and dossier.submitted_at and dossier.received_at, dossier.state
            assert dossier.rule_set
            assert [e.data["code"] for e in events if e.action == Action.RECEIVE] == [dossier.code]
        if dossier.state == S.RECEIVED or dossier.state in (S.IN_PROCESSING, S.AWAITING_APPROVAL):
            assert dossier.current_due_at is not None and dossier.original_due_at is not None

    def _check_path_to_result(self, dossier: Dossier, events) -> None:
        """A result only after reception, processing and a proposal for approval, in that order."""
        states = [e.to_state for e in events]
        if S.RESULT_READY in states or dossier.state in (S.RESULT_READY, S.RETURNED):
            before_result = iter(states[: states.index(S.RESULT_READY)])
            assert all(s in before_result for s in (S.RECEIVED, S.IN_PROCESSING, S.AWAITING_APPROVAL)), states
            assert dossier.completed_at is not None and dossier.timing
        if dossier.state == S.RETURNED:
            assert states.index(S.RETURNED) > states.index(S.RESULT_READY)

    def _check_final(self, dossier: Dossier, events) -> None:
        """A final state is never left, and nothing after it changes the state."""
        if dossier.pk in self.final:
            assert dossier.state == self.final[dossier.pk]
        elif dossier.state in FINAL_STATES:
            self.final[dossier.pk] = dossier.state
        first_final = next((n for n, e in enumerate(events) if e.to_state in FINAL_STATES), None)
        if first_final is not None:
            assert all(e.from_state == e.to_state for e in events[first_final + 1 :])

    def _check_version(self, dossier: Dossier, events) -> None:
        """The version only grows, and by at least one with each new event."""
        count, version = len(events), dossier.version
        seen_count, seen_version = self.seen.get(dossier.pk, (1, 0))
        new = events[seen_count:]
        assert version >= seen_version + len(new), (seen_version, version, [e.action for e in new])
        self.seen[dossier.pk] = (count, version)


@pytest.mark.django_db
@pytest.mark.timeout(900)  # passing takes well under a minute; shrinking a failure can take minutes
def test_the_lifecycle_follows_the_graph_whatever_happens(monkeypatch):
    # Forms are a fixed small PDF here: rendering is the form tests' business and slow.
    monkeypatch.setattr("dossiers.pdf.render_dossier_form", lambda dossier, number, **extra: PDF_BYTES)
    run_state_machine_as_test(
        DossierLifecycle,
        settings=settings(
            max_examples=25,
            stateful_step_count=20,
            deadline=None,
            database=None,
            # No "explain" phase: on Python 3.11 it traces every line and takes minutes on a failure.
            phases=[Phase.explicit, Phase.generate, Phase.target, Phase.shrink],
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
        ),
    )


# What a holding row says; the stored rows must say what holdings_for computes.
HOLDING_FIELDS = (
    "agency_id",
    "step_id",
    "role",
    "bucket",
    "state",
    "assignee_id",
    "due_at",
    "is_running",
    "is_primary",
    "apologised",
    "step_due_at",
)


class DossierLifecycleWithQueues(DossierLifecycle):
    """The same machine, also checking every officer's queues against the slow reference after each step."""

    @invariant()
    def queues_from_holdings_equal_the_slow_reference(self):
        """Each officer's every tab, read from DossierHolding, lists what the dossiers' state and steps say."""
        if not self.dossier_ids:
            return
        now = timezone.now()
        # Only after a change (a refused action changes nothing; time moving on changes due-soon/overdue).
        fingerprint = (now, tuple(Dossier.objects.filter(pk__in=self.dossier_ids).values_list("pk", "version")))
        if fingerprint == getattr(self, "queues_checked", None):
            return
        self.queues_checked = fingerprint
        for dossier in Dossier.objects.filter(pk__in=self.dossier_ids):
            stored = sorted(
                tuple(getattr(h, name) for name in HOLDING_FIELDS)
                for h in DossierHolding.objects.filter(dossier=dossier)
            )
            computed = sorted(
                tuple(getattr(h, name) for name in HOLDING_FIELDS) for h in holdings_for(dossier, dossier.steps.all())
            )
            assert stored == computed, (dossier.state, stored, computed)
            # The one row standing for the dossier is the resolving agency's.
            primary = [row[0] for row in stored if row[HOLDING_FIELDS.index("is_primary")]]
            assert primary == ([dossier.agency_id] if stored else []), stored
        # The deadline alerts read from holdings are those the dossiers and steps say.
        assert set(alerts_due(now, limit=1000)) == reference_alerts(now)
        officers = [self.world.reception, self.world.specialist, self.world.leader, self.outsiders[Role.LEADER]]
        if self.world.police_officer is not None:
            officers.append(self.world.police_officer)
        for officer in officers:
            counts = selectors.queue_counts(officer, now=now)
            for tab in selectors.QUEUE_TABS:
                rows, _cursor = selectors.queue_page(officer, tab, size=50, now=now)
                listed = [d.pk for d in rows]
                assert len(listed) == len(set(listed)), (tab, listed)
                assert set(listed) == reference_queue(officer, tab, now=now), (officer.username, tab)
                dues = [(d.current_due_at is None, d.current_due_at or now, d.pk) for d in rows]
                assert dues == sorted(dues), tab
                assert counts[tab] == len(listed), (tab, counts[tab], listed)
            # The name search (limited to held dossiers, through their trigram index) lists every dossier
            # of the queue whose applicant matches, whatever its state: the same as over every dossier.
            everything = reference_queue(officer, "all", now=now)
            for text in ("Lê Văn", "le van cong", "Người Lạ"):
                match = set(
                    Dossier.objects.filter(pk__in=everything, search_text__contains=normalize_search(text)).values_list(
                        "pk", flat=True
                    )
                )
                filterset = QueueFilterSet({"q": text}, agency_ids=selectors.officer_agency_ids(officer), now=now)
                rows, _cursor = selectors.queue_page(officer, "all", base=filterset.qs, size=50, now=now)
                assert {d.pk for d in rows} == match, (officer.username, text)


@pytest.mark.django_db
@pytest.mark.timeout(1800)  # each step reads 32 queues two ways: a few minutes on an idle machine
def test_queues_from_holdings_equal_the_slow_reference_whatever_happens(monkeypatch):
    monkeypatch.setattr("dossiers.pdf.render_dossier_form", lambda dossier, number, **extra: PDF_BYTES)
    run_state_machine_as_test(
        DossierLifecycleWithQueues,
        settings=settings(
            max_examples=6,
            stateful_step_count=15,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate, Phase.target, Phase.shrink],
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
        ),
    )
