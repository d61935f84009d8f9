"""The one-stop shop and processing officers' pages: queues, reception, processing, approval.

Reads go through dossiers.selectors, which answer 404 for a dossier outside the officer's
agencies; every change goes through one function of dossiers.services with the version of the
dossier the officer saw, so that a form left open while someone else acted changes nothing.
The pages work without JavaScript and on a 360 px phone.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from dossiers.privacy.masking import mask_cccd
from dossiers.privacy.services import personal_data_access_record
from portal.accounts.constants import Role
from portal.accounts.models import display_name
from procedures.calendar import Timing
from procedures.constants import StepRole
from procedures.models import Agency, Procedure

from .. import services
from ..constants import Action, DossierState, FileKind, FormNumber, FormState, ResultChannel, state_labels
from ..filters import FILTER_KEYS, QueueFilterSet, QueueOptions, queue_options, specialist_options, specialists_of
from ..filters import start_of as _start_of
from ..forms import (
    AnswersForm,
    ApplicantForm,
    DeliveryForm,
    FetchedModelChoiceField,
    ReasonForm,
    SupplementRequestForm,
    UploadForm,
    display_answer,
)
from ..forms_rendering import FastFormRenderer, form_fields_html
from ..models import Dossier, DossierFile, DossierStep
from ..officer_page import choice_labels, page_file_of
from ..pdf import render_register
from ..selectors import (
    COUNT_LIMIT,
    DUE_SOON,
    QUEUE_TABS,
    STAFF_ROLES,
    TimelineRow,
    counter_dossier_get_for_officer,
    dossier_get_for_officer,
    dossier_page_get_for_officer,
    dossier_page_lists,
    dossiers_for_officer,
    officer_agency_ids,
    queue_counts,
    queue_page_rows,
    remember_memberships,
)
from .queue_markup import queue_content_html, queue_rows_html, queue_tabs_html

logger = logging.getLogger("dossiers.officer")
S = DossierState
User = get_user_model()

PAGE_SIZE = 25
BULK_LIMIT = 100
# The clock runs in these states (dossiers.holdings), and "due soon" is within two days.
RUNNING_STATES = (S.RECEIVED, S.IN_PROCESSING, S.AWAITING_APPROVAL)


# --- access -----------------------------------------------------------------------------------


def officer_required(view):
    """Staff only: anonymous users go to the login page, citizens get a 403 page. Never cached."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        remember_memberships(request.user)
        if not officer_agency_ids(request.user, (*STAFF_ROLES,)):  # no membership: not an officer
            logger.warning("access.refused what=officer_page user=%s", request.user.pk)
            return render(request, "dossiers/officer/forbidden.html", status=403)
        return view(request, *args, **kwargs)

    return login_required(never_cache(wrapper))


class OfficerRoles:
    """The agencies (with the units below them) in which the officer holds each role."""

    def __init__(self, user):
        self.reception = officer_agency_ids(user, (Role.RECEPTION,))
        self.specialist = officer_agency_ids(user, (Role.SPECIALIST,))
        self.leader = officer_agency_ids(user, (Role.LEADER,))
        self.all = officer_agency_ids(user)


def _specialists(agency_ids):
    return specialists_of(agency_ids)


def _covering_ids(agency: Agency) -> list[int]:
    """The agency and its ancestors: a membership in any of them covers the agency.

    Read from the materialised path ("/1/4/9/" holds the ids from the root down to the agency itself).
    """
    return [int(part) for part in agency.path.strip("/").split("/") if part] or [agency.pk]


def _deadline_badge(dossier: Dossier, now: dt.datetime) -> str:
    return _badge_of(dossier.state, dossier.current_due_at, now)


def _badge_of(state: str, due: dt.datetime | None, now: dt.datetime) -> str:
    if state not in RUNNING_STATES or due is None:
        return ""
    if due < now:
        return "overdue"
    if due < now + DUE_SOON:
        return "due_soon"
    return ""


def _local(value: dt.datetime | None) -> str:
    return formats.date_format(timezone.localtime(value), "H:i d/m/Y") if value else ""


# --- queue ------------------------------------------------------------------------------------


def _row_time(value: dt.datetime | None) -> str:
    """ "H:i d/m/Y" in the local time zone, as the `date` filter writes it, without its per-call formatter."""
    return timezone.localtime(value).strftime("%H:%M %d/%m/%Y") if value else ""


def _queue_query(tab: str, filters: dict[str, str], after: str | None = None) -> str:
    """The query string of a queue link: what QueryDict.urlencode writes, without building a QueryDict."""
    params = [("tab", tab)]
    params += [(key, filters[key]) for key in FILTER_KEYS if filters.get(key)]
    if after:
        params.append(("after", after))
    return urlencode(params)


def _tab_of(value: str | None) -> str:
    return value if value in QUEUE_TABS else "new"


def _count_label(count: int) -> str:
    return f"{COUNT_LIMIT - 1}+" if count >= COUNT_LIMIT else str(count)


def _time_left_texts() -> tuple[str, str, str]:
    return _("%(days)s ngày"), _("%(hours)s giờ"), _("quá %(amount)s")


def _time_left_of(
    state: str, due: dt.datetime | None, now: dt.datetime, *, texts: tuple[str, str, str] | None = None
) -> str:
    """Working time is the calendar's business; the queue shows plain hours or days to the due time.

    `texts` are _time_left_texts() translated once for a page of rows.
    """
    if state not in RUNNING_STATES or due is None:
        return ""
    days, hours_text, late = texts or _time_left_texts()
    seconds = (due - now).total_seconds()
    hours = int(abs(seconds) // 3600)
    amount = days % {"days": hours // 24} if hours >= 48 else hours_text % {"hours": hours}
    return amount if seconds >= 0 else late % {"amount": amount}


# The columns the queue table shows, read as values(): no model instance per row.
QUEUE_PAGE_VALUES = (
    "id",
    "code",
    "state",
    "version",
    "applicant_name",
    "applicant_id_number",
    "received_at",
    "current_due_at",
    "procedure__name",
    "assignee__id",
    "assignee__full_name",
    "assignee__first_name",
    "assignee__last_name",
    "assignee__username",
    "current_step__name",
)


def _queue_rows(rows: list[dict], *, now: dt.datetime, can_assign: bool) -> list[dict]:
    """The queue table's rows from queue_page_rows, every cell already as the page writes it.

    The template only prints `{{ row.x }}`: at 25 rows and 8 cells, resolving model attribute chains
    and filters in the template was about half the page's Python time (issue 6).
    """
    labels = state_labels(get_language())
    without_code = _("Hồ sơ chưa cấp mã (số %(pk)s)")
    time_texts = _time_left_texts()
    zone = timezone.get_current_timezone()

    def row_time(value: dt.datetime | None) -> str:  # _row_time with the zone looked up once
        return value.astimezone(zone).strftime("%H:%M %d/%m/%Y") if value else ""

    select_text = _("Chọn hồ sơ %(code)s để phân công")
    # One reverse() for the page: the dossier links differ only by the id at the end.
    link = reverse("dossiers:officer_dossier", args=[0])[: -len("0/")]
    items = []
    for row in rows:
        pk, state, due, code = row["id"], row["state"], row["current_due_at"], row["code"] or ""
        id_number = row["applicant_id_number"]
        applicant = row["applicant_name"] or "—"
        if id_number:
            applicant = f"{applicant} ({mask_cccd(id_number)})"
        if row["assignee__id"] is None:
            assignee = "—"
        else:
            assignee = (
                display_name(
                    row["assignee__full_name"],
                    row["assignee__first_name"],
                    row["assignee__last_name"],
                    row["assignee__username"],
                )
                or "—"
            )
        items.append(
            {
                "id": pk,
                "url": f"{link}{pk}/",
                "code": code or without_code % {"pk": pk},
                "state_label": labels.get(state, state),
                "procedure": row["procedure__name"],
                "applicant": applicant,
                "received": row_time(row["received_at"]) or "—",
                "due": row_time(due) or "—",
                "time_left": _time_left_of(state, due, now, texts=time_texts) or "—",
                "badge": _badge_of(state, due, now),
                "step": row["current_step__name"] or "—",
                "assignee": assignee,
                "selectable": can_assign and state == S.RECEIVED,
                "select_label": select_text % {"code": code},
                "version": row["version"],
            }
        )
    return items


@officer_required
def queue(request):
    """An officer's work queue: one tab, filtered, nearest deadline first, 25 rows a page (keyset).

    Filters and search are GET parameters (bookmarkable; reload and the back button keep them),
    read by the same QueueFilterSet as the API. One query for the rows, one for all tab counts.
    """
    tab = _tab_of(request.GET.get("tab"))
    roles = OfficerRoles(request.user)
    now = timezone.now()
    filterset = QueueFilterSet(request.GET, agency_ids=roles.all, now=now)
    filters = filterset.active()
    after = request.GET.get("after") or None
    rows, next_cursor = queue_page_rows(
        request.user, tab, QUEUE_PAGE_VALUES, base=filterset.qs, after=after, size=PAGE_SIZE, now=now
    )
    items = _queue_rows(rows, now=now, can_assign=bool(roles.leader | roles.reception))
    counts = queue_counts(request.user, now=now)
    tabs = [
        {
            "key": key,
            "label": label,
            "count": counts[key],
            "count_label": _count_label(counts[key]),
            "query": _queue_query(key, filters),
        }
        for key, label in QUEUE_TABS.items()
    ]
    bulk_shown = any(i["selectable"] for i in items)
    # The filter form's lists and the bulk form's specialists in one statement (issue 6).
    options = queue_options(roles.all, bulk_agency_ids=(roles.leader | roles.reception) if bulk_shown else None)
    filterset.use_options(options)
    bulk_form = BulkAssignForm(roles=roles, options=options) if bulk_shown else None
    context = {
        "tabs": tabs,
        "tab": tab,
        "tab_label": QUEUE_TABS[tab],
        "form": filterset.form,
        "filtering": bool(filters) or bool(filterset.form.errors),
        "items": items,
        "after": after,
        "first_page_query": _queue_query(tab, filters) if after else "",
        "next_page_query": _queue_query(tab, filters, next_cursor) if next_cursor else "",
        "current_query": _queue_query(tab, filters, after),
        "bulk_form": bulk_form,
        "searching": bool(filters.get("q")),
        "is_reception": bool(roles.reception),
        # The page's repeated parts, written in Python (dossiers.views.queue_markup, forms_rendering).
        "tabs_html": queue_tabs_html(tabs, tab),
        "form_html": form_fields_html(filterset.form),
        "rows_html": queue_rows_html(items),
        "bulk_form_html": form_fields_html(bulk_form, row_class="form-row") if bulk_form is not None else "",
    }
    context["content"] = queue_content_html(request, context)
    return render(request, "dossiers/officer/queue.html", context)


class BulkAssignForm(forms.Form):
    default_renderer = FastFormRenderer  # Django's markup without a template per option
    assignee = FetchedModelChoiceField(
        label=gettext_lazy("Phân công cho chuyên viên"), queryset=User.objects.none(), empty_label=None
    )

    def __init__(self, *args, roles: OfficerRoles, options: QueueOptions | None = None, **kwargs):
        super().__init__(*args, auto_id="id_bulk_%s", **kwargs)
        specialists = _specialists(roles.leader | roles.reception)
        # The page's options show the name only (User.__str__); DISTINCT over every column of the users
        # was the page's slowest statement. The submitted form reads whole users, for the assignment.
        field = self.fields["assignee"]
        field.queryset = specialists if self.is_bound else specialists.only("pk", "full_name", "username")
        if options is not None and options.bulk_specialists is not None:
            field.preset_options = options.bulk_specialists


@officer_required
@require_POST
def bulk_assign(request):
    """Assign each selected received dossier through dossier_assign; report every dossier's outcome."""
    roles = OfficerRoles(request.user)
    back = QueryDict(request.POST.get("back", ""))
    back_url = (
        f"{reverse('dossiers:officer_queue')}?"
        f"{_queue_query(_tab_of(back.get('tab')), {k: back.get(k, '') for k in FILTER_KEYS}, back.get('after'))}"
    )
    form = BulkAssignForm(request.POST, roles=roles)
    selected = []
    for value in request.POST.getlist("dossiers")[:BULK_LIMIT]:
        if value.isdigit() and int(value) not in selected:
            selected.append(int(value))
    if not form.is_valid():
        messages.error(request, _("Vui lòng chọn chuyên viên được phân công."))
        return redirect(back_url)
    if not selected:
        messages.error(request, _("Vui lòng chọn ít nhất một hồ sơ để phân công."))
        return redirect(back_url)
    assignee = form.cleaned_data["assignee"]
    done = []
    for pk in selected:
        try:
            dossier = dossier_get_for_officer(user=request.user, pk=pk)
        except Http404:
            messages.error(request, _("Hồ sơ #%(pk)s: không tìm thấy hồ sơ.") % {"pk": pk})
            continue
        label = dossier.code or f"#{dossier.pk}"
        if dossier.state != S.RECEIVED:
            messages.error(
                request,
                _("Hồ sơ %(code)s: chỉ phân công hàng loạt hồ sơ ở trạng thái “%(state)s”.")
                % {"code": label, "state": S.RECEIVED.label},
            )
            continue
        version = request.POST.get(f"version-{pk}", "")
        try:
            services.dossier_assign(
                dossier=dossier,
                actor=request.user,
                assignee=assignee,
                expected_version=int(version) if version.isdigit() else None,
            )
        except services.DossierError as exc:
            messages.error(request, _("Hồ sơ %(code)s: %(message)s") % {"code": label, "message": exc.message})
            continue
        done.append(label)
    if done:
        messages.success(
            request,
            _("Đã phân công %(count)s hồ sơ cho %(name)s: %(codes)s.")
            % {"count": len(done), "name": assignee.get_full_name(), "codes": ", ".join(done)},
        )
    return redirect(back_url)


# --- actions on one dossier -------------------------------------------------------------------


# One renderer for every action form: a renderer class given as default_renderer is instantiated per
# form, and each instance builds its own template engine (every installed tag library looked up
# again) the first time a widget falls back to Django's templates (a file input does).
_ACTION_FORM_RENDERER = FastFormRenderer()


class _WithContext:
    """Lets a form know the dossier and the officer it is rendered for.

    Its forms write Django's markup without a template render per widget (dossiers.forms_rendering).
    """

    default_renderer = _ACTION_FORM_RENDERER

    def __init__(self, *args, dossier: Dossier, user, **kwargs):
        self.dossier, self.user = dossier, user
        super().__init__(*args, **kwargs)


class VersionForm(_WithContext, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)


class NoteForm(VersionForm):
    note = forms.CharField(
        label=gettext_lazy("Ghi chú (không bắt buộc)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ReasonActionForm(_WithContext, ReasonForm):
    pass


class RefuseActionForm(ReasonActionForm):
    lateness_reason = forms.CharField(
        label=gettext_lazy("Lý do chậm trễ (khi đã quá hạn giải quyết)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("Bắt buộc nếu từ chối sau ngày hẹn trả: hồ sơ được ghi nhận quá hạn."),
    )


class SupplementActionForm(_WithContext, SupplementRequestForm):
    pass


class PaymentForm(VersionForm):
    amount = forms.IntegerField(label=gettext_lazy("Số tiền đã nộp (đồng)"), min_value=0)
    method = forms.ChoiceField(
        label=gettext_lazy("Hình thức thu"),
        choices=[("cash", gettext_lazy("Tiền mặt tại quầy")), ("card", gettext_lazy("Thẻ qua máy POS tại quầy"))],
        initial="cash",
        required=False,
    )
    receipt_number = forms.CharField(label=gettext_lazy("Số biên lai"), max_length=50)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["amount"].initial = self.dossier.fee_total


def _record_counter_payment(user, dossier, form):
    from payments.services import payment_record_counter

    payment_record_counter(
        dossier=dossier,
        officer=user,
        amount=form.cleaned_data["amount"],
        receipt_number=form.cleaned_data["receipt_number"],
        method=form.cleaned_data.get("method") or "cash",
        expected_version=form.cleaned_data["version"],
    )
    dossier.refresh_from_db()
    return dossier


class AssignForm(NoteForm):
    assignee = FetchedModelChoiceField(label=gettext_lazy("Chuyên viên xử lý"), queryset=User.objects.none())
    field_order = ["version", "assignee", "note"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        step = assignment_step(self.dossier)
        field = self.fields["assignee"]
        covering = _covering_ids(step.agency) if step is not None else None
        field.queryset = _specialists(covering) if covering is not None else User.objects.none()
        if covering is not None and not self.is_bound:
            # Shown only, not validated: the options read in one hand-written statement.
            field.preset_options = specialist_options(covering)
        if self.dossier.assignee_id:
            self.fields["assignee"].initial = self.dossier.assignee_id


class ConsultForm(VersionForm):
    # One ordinary query for the options, not a server-side cursor (DECLARE, FETCH, CLOSE).
    agency = FetchedModelChoiceField(label=gettext_lazy("Đơn vị được lấy ý kiến"), queryset=Agency.objects.none())
    question = forms.CharField(
        label=gettext_lazy("Nội dung cần lấy ý kiến"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )
    deadline = forms.DateTimeField(
        label=gettext_lazy("Thời hạn trả lời"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = Agency.objects.exclude(pk=self.dossier.agency_id).order_by("path")

    def clean_deadline(self):
        deadline = self.cleaned_data["deadline"]
        if deadline <= timezone.now():
            raise forms.ValidationError(_("Thời hạn trả lời phải sau thời điểm hiện tại."))
        return deadline


class ApprovalRequestForm(NoteForm):
    result = forms.FileField(
        label=gettext_lazy("Dự thảo kết quả giải quyết (PDF, JPG hoặc PNG)"),
        required=False,
        help_text=gettext_lazy("Bắt buộc nếu hồ sơ chưa có tệp kết quả."),
    )
    field_order = ["version", "result", "note"]


class ApproveForm(NoteForm):
    result = forms.FileField(
        label=gettext_lazy("Thay tệp kết quả đã ký (không bắt buộc)"),
        required=False,
        help_text=gettext_lazy("Để trống nếu giữ tệp kết quả chuyên viên đã trình."),
    )
    field_order = ["version", "result", "note"]


class ReturnResultForm(VersionForm):
    channel = forms.ChoiceField(label=gettext_lazy("Hình thức trả kết quả"), widget=forms.RadioSelect)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = ResultChannel.choices
        if not self.dossier.postal_address:
            # Posting a result needs the applicant's address (database constraint).
            choices = [c for c in choices if c[0] != ResultChannel.POSTAL]
        self.fields["channel"].choices = choices
        self.fields["channel"].initial = self.dossier.channel_out


class ApologyForm(VersionForm):
    new_due_at = forms.DateTimeField(
        label=gettext_lazy("Ngày, giờ hẹn trả mới"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=gettext_lazy("Phải là ngày làm việc, sau ngày hẹn hiện tại. Chỉ được hẹn lại một lần."),
    )
    reason = forms.CharField(
        label=gettext_lazy("Lý do chậm trễ"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


class StopActionForm(VersionForm):
    """The decision to stop; the request is the applicant's online one, or one entered here."""

    reason = forms.CharField(
        label=gettext_lazy("Nội dung đề nghị dừng của người nộp"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Để trống nếu người nộp đã đề nghị trực tuyến."),
    )
    request_channel = forms.ChoiceField(
        label=gettext_lazy("Đề nghị dừng nhận được qua"),
        choices=[("counter", gettext_lazy("Trực tiếp tại Bộ phận Một cửa")), ("postal", gettext_lazy("Bưu chính"))],
        required=False,
    )
    requested_at = forms.DateTimeField(
        label=gettext_lazy("Thời điểm nhận đề nghị"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=gettext_lazy("Để trống: bây giờ."),
    )


def _page_steps(dossier: Dossier) -> list | None:
    """The dossier's steps in order when the dossier page read them with it (dossier.page), else None."""
    page = dossier.__dict__.get("page")
    return page.steps if page is not None else None


def assignment_step(dossier: Dossier) -> DossierStep | None:
    """The step dossier_assign gives to a specialist: the current one, else the first specialist step."""
    step = dossier.current_step
    if step is None or step.role == StepRole.RECEPTION:
        steps = _page_steps(dossier)
        if steps is not None:
            return next((s for s in steps if s.completed_at is None and s.role == StepRole.SPECIALIST), None)
        step = (
            dossier.steps.filter(completed_at__isnull=True, role=StepRole.SPECIALIST)
            .select_related("agency")
            .order_by("order", "id")
            .first()
        )
    return step


def _has_next_specialist_step(dossier: Dossier) -> bool:
    step = dossier.current_step
    if step is None:
        return False
    steps = _page_steps(dossier)
    if steps is not None:
        following = next((s for s in steps if s.completed_at is None and s.order > step.order), None)
    else:
        following = (
            dossier.steps.filter(completed_at__isnull=True, order__gt=step.order).order_by("order", "id").first()
        )
    return following is not None and following.role == StepRole.SPECIALIST


@dataclass(frozen=True)
class ActionSpec:
    """One action on the dossier page: its form, the service call, and when it is offered.

    `offered` only decides which forms the page shows; the service decides what is allowed.
    """

    name: str
    label: str
    button: str
    form_class: type
    run: Callable
    offered: Callable
    success: Callable
    help: str = ""
    multipart: bool = False
    labels: tuple = ()


def _step_agency_id(d: Dossier) -> int:
    return d.current_step.agency_id if d.current_step_id else d.agency_id


def _own_parallel_step(d: Dossier, agency_ids: set[int]) -> DossierStep | None:
    """An open part of a parallel (liên thông) group that one of these agencies must do, other than the lead's."""
    if d.state != S.IN_PROCESSING:
        return None
    steps = _page_steps(d)
    if steps is not None:
        return next(
            (
                s
                for s in steps
                if s.is_parallel
                and s.started_at is not None
                and s.completed_at is None
                and s.agency_id in agency_ids
                and s.id != d.current_step_id
            ),
            None,
        )
    return (
        d.steps.filter(is_parallel=True, started_at__isnull=False, completed_at__isnull=True, agency_id__in=agency_ids)
        .exclude(pk=d.current_step_id)
        .select_related("agency")
        .order_by("order", "id")
        .first()
    )


def _complete_part(user, d: Dossier, f) -> Dossier:
    step = _own_parallel_step(d, officer_agency_ids(user, (Role.SPECIALIST,)))
    if step is None:
        raise services.NotAllowedError(_("Đơn vị của bạn không có phần việc phối hợp đang mở trong hồ sơ này."))
    return services.dossier_forward(
        dossier=d, officer=user, step=step, note=f.cleaned_data["note"], expected_version=f.cleaned_data["version"]
    )


def _result_agency_id(d: Dossier) -> int:
    return d.receiving_agency_id or d.agency_id


def _assign_offered(d: Dossier, r: OfficerRoles) -> bool:
    if d.state not in (S.RECEIVED, S.IN_PROCESSING):
        return False
    step = assignment_step(d)
    return step is not None and step.agency_id in (r.leader | r.reception | r.specialist)


def _received_message(d: Dossier) -> str:
    if d.state == S.AWAITING_PAYMENT:
        return _("Đã tiếp nhận hồ sơ %(code)s. Hồ sơ chờ nộp phí, lệ phí trước khi giải quyết.") % {"code": d.code}
    return _("Đã tiếp nhận hồ sơ %(code)s. Ngày hẹn trả kết quả: %(due)s.") % {
        "code": d.code,
        "due": _local(d.current_due_at),
    }


ACTIONS: dict[str, ActionSpec] = {
    spec.name: spec
    for spec in [
        ActionSpec(
            name=Action.RECEIVE,
            label=gettext_lazy("Tiếp nhận"),
            button=gettext_lazy("Tiếp nhận hồ sơ"),
            help=gettext_lazy("Hồ sơ đầy đủ, đúng quy định: cấp mã hồ sơ, hẹn ngày trả và phát hành Mẫu 01."),
            form_class=NoteForm,
            run=lambda user, d, f: services.dossier_receive(
                dossier=d, officer=user, note=f.cleaned_data["note"], expected_version=f.cleaned_data["version"]
            ),
            offered=lambda d, r: d.state == S.SUBMITTED and d.agency_id in r.reception,
            success=_received_message,
        ),
        ActionSpec(
            name=Action.REQUEST_SUPPLEMENT,
            label=gettext_lazy("Yêu cầu bổ sung"),
            button=gettext_lazy("Gửi yêu cầu bổ sung (Mẫu 02)"),
            help=gettext_lazy("Ghi một lần, đầy đủ tất cả nội dung cần bổ sung."),
            form_class=SupplementActionForm,
            run=lambda user, d, f: services.dossier_request_supplement(
                dossier=d,
                officer=user,
                items=f.item_list,
                reason=f.cleaned_data["reason"],
                expected_version=f.cleaned_data["version"],
            ),
            offered=lambda d, r: (
                (d.state == S.SUBMITTED and d.agency_id in r.reception)
                or (d.state == S.IN_PROCESSING and _step_agency_id(d) in (r.specialist | r.leader))
            ),
            success=lambda d: _("Đã gửi yêu cầu bổ sung hồ sơ."),
        ),
        ActionSpec(
            name=Action.REFUSE,
            label=gettext_lazy("Từ chối"),
            button=gettext_lazy("Từ chối hồ sơ (Mẫu 03)"),
            form_class=RefuseActionForm,
            labels=(("reason", gettext_lazy("Lý do từ chối")),),
            run=lambda user, d, f: services.dossier_refuse(
                dossier=d,
                officer=user,
                reason=f.cleaned_data["reason"],
                expected_version=f.cleaned_data["version"],
                lateness_reason=f.cleaned_data.get("lateness_reason") or "",
            ),
            offered=lambda d, r: (
                (d.state == S.SUBMITTED and d.agency_id in r.reception)
                or (d.state in (S.IN_PROCESSING, S.AWAITING_APPROVAL) and d.agency_id in r.leader)
            ),
            success=lambda d: _("Đã từ chối hồ sơ và phát hành phiếu từ chối."),
        ),
        ActionSpec(
            name=Action.RECORD_PAYMENT,
            label=gettext_lazy("Ghi nhận nộp phí"),
            button=gettext_lazy("Ghi nhận đã nộp phí, lệ phí"),
            form_class=PaymentForm,
            # Through the payments app, so that a counter payment is a Payment with its receipt.
            run=lambda user, d, f: _record_counter_payment(user, d, f),
            offered=lambda d, r: (
                d.agency_id in r.reception
                and (
                    d.state == S.AWAITING_PAYMENT
                    or (d.state == S.RESULT_READY and d.fee_total > 0 and d.fee_paid_at is None)
                )
            ),
            success=lambda d: (
                _("Đã ghi nhận nộp phí. Ngày hẹn trả kết quả: %(due)s.") % {"due": _local(d.current_due_at)}
            ),
        ),
        ActionSpec(
            name=Action.ASSIGN,
            label=gettext_lazy("Phân công"),
            button=gettext_lazy("Phân công xử lý"),
            form_class=AssignForm,
            run=lambda user, d, f: services.dossier_assign(
                dossier=d,
                actor=user,
                assignee=f.cleaned_data["assignee"],
                note=f.cleaned_data["note"],
                expected_version=f.cleaned_data["version"],
            ),
            offered=_assign_offered,
            success=lambda d: _("Đã phân công hồ sơ cho %(name)s.") % {"name": d.assignee.get_full_name()},
        ),
        ActionSpec(
            name=Action.FORWARD,
            label=gettext_lazy("Chuyển bước"),
            button=gettext_lazy("Chuyển bước xử lý tiếp theo"),
            form_class=NoteForm,
            run=lambda user, d, f: services.dossier_forward(
                dossier=d, officer=user, note=f.cleaned_data["note"], expected_version=f.cleaned_data["version"]
            ),
            offered=lambda d, r: (
                d.state == S.IN_PROCESSING and _step_agency_id(d) in r.specialist and _has_next_specialist_step(d)
            ),
            success=lambda d: _("Đã chuyển hồ sơ sang bước tiếp theo."),
        ),
        ActionSpec(
            name="complete_part",
            label=gettext_lazy("Hoàn thành phần việc phối hợp"),
            button=gettext_lazy("Hoàn thành phần việc của đơn vị"),
            help=gettext_lazy(
                "Hồ sơ liên thông được gửi song song đến các cơ quan phối hợp: mỗi cơ quan hoàn thành phần việc "
                "của mình; cơ quan chủ trì trình phê duyệt khi tất cả đã xong."
            ),
            form_class=NoteForm,
            run=_complete_part,
            offered=lambda d, r: _own_parallel_step(d, r.specialist) is not None,
            success=lambda d: _("Đã hoàn thành phần việc phối hợp của đơn vị."),
        ),
        ActionSpec(
            name=Action.CONSULT,
            label=gettext_lazy("Lấy ý kiến phối hợp"),
            button=gettext_lazy("Gửi đề nghị lấy ý kiến"),
            form_class=ConsultForm,
            run=lambda user, d, f: services.dossier_consult(
                dossier=d,
                officer=user,
                agency=f.cleaned_data["agency"],
                question=f.cleaned_data["question"],
                deadline=f.cleaned_data["deadline"],
                expected_version=f.cleaned_data["version"],
            ),
            offered=lambda d, r: d.state == S.IN_PROCESSING and _step_agency_id(d) in r.specialist,
            success=lambda d: _("Đã ghi nhận đề nghị lấy ý kiến phối hợp."),
        ),
        ActionSpec(
            name=Action.SUBMIT_FOR_APPROVAL,
            label=gettext_lazy("Trình phê duyệt"),
            button=gettext_lazy("Trình lãnh đạo phê duyệt"),
            form_class=ApprovalRequestForm,
            multipart=True,
            run=lambda user, d, f: services.dossier_submit_for_approval(
                dossier=d,
                officer=user,
                result_upload=f.cleaned_data["result"] or None,
                note=f.cleaned_data["note"],
                expected_version=f.cleaned_data["version"],
            ),
            offered=lambda d, r: (
                d.state == S.IN_PROCESSING
                and d.current_step_id is not None
                and d.current_step.agency_id in r.specialist
            ),
            success=lambda d: _("Đã trình lãnh đạo phê duyệt."),
        ),
        ActionSpec(
            name=Action.SEND_BACK,
            label=gettext_lazy("Trả lại"),
            button=gettext_lazy("Trả lại chuyên viên"),
            form_class=ReasonActionForm,
            labels=(("reason", gettext_lazy("Lý do trả lại")),),
            run=lambda user, d, f: services.dossier_send_back(
                dossier=d, officer=user, reason=f.cleaned_data["reason"], expected_version=f.cleaned_data["version"]
            ),
            offered=lambda d, r: d.state == S.AWAITING_APPROVAL and _step_agency_id(d) in r.leader,
            success=lambda d: _("Đã trả lại hồ sơ để xử lý lại."),
        ),
        ActionSpec(
            name=Action.APPROVE,
            label=gettext_lazy("Phê duyệt"),
            button=gettext_lazy("Phê duyệt kết quả"),
            form_class=ApproveForm,
            multipart=True,
            run=lambda user, d, f: services.dossier_approve(
                dossier=d,
                officer=user,
                note=f.cleaned_data["note"],
                result_upload=f.cleaned_data["result"] or None,
                expected_version=f.cleaned_data["version"],
            ),
            offered=lambda d, r: d.state == S.AWAITING_APPROVAL and _step_agency_id(d) in r.leader,
            success=lambda d: _("Đã phê duyệt kết quả giải quyết."),
        ),
        ActionSpec(
            name=Action.RETURN_RESULT,
            label=gettext_lazy("Trả kết quả"),
            button=gettext_lazy("Xác nhận đã trả kết quả"),
            form_class=ReturnResultForm,
            run=lambda user, d, f: services.dossier_return_result(
                dossier=d, actor=user, channel=f.cleaned_data["channel"], expected_version=f.cleaned_data["version"]
            ),
            offered=lambda d, r: d.state == S.RESULT_READY and _result_agency_id(d) in r.reception,
            success=lambda d: _("Đã trả kết quả cho người nộp."),
        ),
        ActionSpec(
            name=Action.APOLOGISE,
            label=gettext_lazy("Xin lỗi và hẹn lại"),
            button=gettext_lazy("Phát hành văn bản xin lỗi (Mẫu 04)"),
            form_class=ApologyForm,
            run=lambda user, d, f: services.dossier_apologise(
                dossier=d,
                officer=user,
                new_due_at=f.cleaned_data["new_due_at"],
                reason=f.cleaned_data["reason"],
                expected_version=f.cleaned_data["version"],
            ),
            offered=lambda d, r: (
                d.state in RUNNING_STATES
                and not d.apologised
                and d.current_due_at is not None
                and d.agency_id in r.leader
            ),
            success=lambda d: _("Đã hẹn lại ngày trả kết quả: %(due)s.") % {"due": _local(d.current_due_at)},
        ),
        ActionSpec(
            name=Action.STOP,
            label=gettext_lazy("Dừng giải quyết"),
            button=gettext_lazy("Dừng giải quyết hồ sơ (Mẫu 05)"),
            help=gettext_lazy("Chỉ khi người nộp đề nghị dừng và chưa có kết quả."),
            form_class=StopActionForm,
            run=lambda user, d, f: services.dossier_stop(
                dossier=d,
                officer=user,
                reason=f.cleaned_data["reason"],
                expected_version=f.cleaned_data["version"],
                requested_at=f.cleaned_data.get("requested_at"),
                request_channel=f.cleaned_data.get("request_channel") or "",
            ),
            offered=lambda d, r: (
                d.state
                in (S.RECEIVED, S.AWAITING_PAYMENT, S.IN_PROCESSING, S.AWAITING_APPROVAL, S.SUPPLEMENT_REQUESTED)
                and _result_agency_id(d) in r.reception
            ),
            success=lambda d: _("Đã dừng giải quyết hồ sơ."),
        ),
    ]
}


def _action_form(spec: ActionSpec, dossier: Dossier, user, data=None, files=None, initial=None):
    form = spec.form_class(
        data,
        files,
        dossier=dossier,
        user=user,
        initial={"version": dossier.version, **(initial or {})},
        auto_id=f"id_{spec.name}_%s",
    )
    for name, label in spec.labels:
        form.fields[name].label = label
    return form


def _event_details(event) -> str:
    data = event.data or {}
    if event.action == Action.ASSIGN:
        return _("Cán bộ xử lý: %(name)s") % {"name": data.get("assignee", "")}
    if event.action == Action.FORWARD:
        return _("Chuyển đến: %(step)s – %(agency)s") % {
            "step": data.get("to_step", ""),
            "agency": data.get("to_agency", ""),
        }
    if event.action == Action.CONSULT:
        deadline = data.get("deadline")
        return _("Đơn vị: %(agency)s; thời hạn trả lời: %(deadline)s") % {
            "agency": data.get("agency", ""),
            "deadline": _local(dt.datetime.fromisoformat(deadline)) if deadline else "",
        }
    if event.action == Action.RECORD_PAYMENT:
        return _("Số tiền: %(amount)s đồng; biên lai số %(receipt)s") % {
            "amount": f"{int(data.get('amount') or 0):,}".replace(",", "."),
            "receipt": data.get("receipt_number", ""),
        }
    if event.action == Action.APOLOGISE and data.get("new_due_at"):
        return _("Hẹn trả mới: %(due)s") % {"due": _local(dt.datetime.fromisoformat(data["new_due_at"]))}
    if event.action == Action.REQUEST_SUPPLEMENT and data.get("items"):
        return "; ".join(data["items"])
    return ""


def _state_label(value: str) -> str:
    return state_labels(get_language()).get(value, value)


# How long after a reception the page reloads itself while Form 01 is being rendered (a worker
# takes a second or two); past it the page stops reloading and offers the link only.
RECEIPT_REFRESH_WINDOW = dt.timedelta(minutes=2)
RECEIPT_REFRESH_SECONDS = 3


def _attachments(event, files: list, by_id: dict) -> list:
    """An event's attachments in the files' order (created_at, id), as DossierFile's ordering gives them.

    Every attachment is one of the dossier's own files (services record the forms and uploads of
    the dossier they act on); one of another dossier would still be shown, read by itself.
    """
    if not event.attachment_ids:
        return []
    wanted = set(event.attachment_ids)
    if not wanted <= by_id.keys():
        return [page_file_of(f) for f in DossierFile.objects.filter(pk__in=wanted).order_by("created_at", "id")]
    return [f for f in files if f.id in wanted]


def _dossier_context(request, dossier: Dossier, *, failed: tuple[str, forms.Form] | None = None) -> dict:
    page = dossier_page_lists(dossier)
    roles = OfficerRoles(request.user)
    now = timezone.now()
    # One reverse() for every action's form: the route differs by the action's name only.
    action_url = reverse("dossiers:officer_dossier_action", args=[dossier.pk, "__action__"])
    actions = []
    for spec in ACTIONS.values():
        if not spec.offered(dossier, roles):
            continue
        form = failed[1] if failed and failed[0] == spec.name else _action_form(spec, dossier, request.user)
        actions.append(
            {
                "spec": spec,
                "form": form,
                "fields_html": form_fields_html(form, row_class="form-row", visible_only=True),
                "url": action_url.replace("__action__", spec.name),
            }
        )

    snapshot = dossier.snapshot
    answers = [
        {"label": spec.get("label", spec["code"]), "value": display_answer(spec, dossier.answers.get(spec["code"], ""))}
        for spec in sorted(snapshot.get("form_fields", []), key=lambda f: int(f.get("order") or 0))
    ]
    files = page.files
    submitted = [f for f in files if f.kind in (FileKind.SUBMITTED, FileKind.SUPPLEMENT)]
    snapshot_documents = services.snapshot_documents(snapshot)
    documents = [
        {
            "name": document.get("name", ""),
            "mandatory": document.get("is_mandatory"),
            "files": [f for f in submitted if f.requirement_id == document["id"]],
        }
        for document in snapshot_documents
    ]
    known = {document["id"] for document in snapshot_documents}
    other_files = [
        f
        for f in files
        if f.kind in (FileKind.SUBMITTED, FileKind.SUPPLEMENT, FileKind.ATTACHMENT) and f.requirement_id not in known
    ]
    action_labels = choice_labels(Action, get_language())  # translated once, not per event
    by_id = {f.id: f for f in files}
    events = [
        {
            "event": event,
            "action_label": action_labels.get(event.action, event.action),
            "from_state": _state_label(event.from_state) if event.from_state else "",
            "to_state": _state_label(event.to_state) if event.to_state else "",
            "details": _event_details(event),
            "attachments": _attachments(event, files, by_id),
        }
        for event in page.events
    ]
    forms_issued = [f for f in files if f.kind == FileKind.FORM]
    receipt_status = services.dossier_receipt_status(dossier=dossier, files=forms_issued)
    return {
        "dossier": dossier,
        "procedure_name": snapshot.get("name", page.procedure_name),
        "agency_name": page.agency_name,
        "receiving_agency_name": page.receiving_agency_name,
        "assignee_name": page.assignee_name,
        "badge": _deadline_badge(dossier, now),
        "answers": answers,
        "documents": documents,
        "other_files": other_files,
        "results": [f for f in files if f.kind == FileKind.RESULT],
        "forms_issued": forms_issued,
        "appointments": page.appointments,
        "receipt": next((f for f in reversed(forms_issued) if f.form_number == FormNumber.RECEIPT), None),
        # Form 01 is rendered by a worker after the reception commits: the page says so meanwhile.
        "receipt_status": receipt_status,
        "receipt_refresh_seconds": RECEIPT_REFRESH_SECONDS,
        "receipt_refresh": receipt_status is not None
        and receipt_status.state == FormState.PENDING
        and dossier.received_at is not None
        and now - dossier.received_at < RECEIPT_REFRESH_WINDOW,
        "fees": page.fees,
        # No payment row: the payment panel needs no query of its own (None: it reads them).
        "payments": None if page.has_payments else [],
        "timeline": [
            TimelineRow(
                name=step.name,
                agency=step.agency.name,
                assignee=display_name(*step.assignee_names) if step.assignee_names else "",
                started_at=step.started_at,
                due_at=step.due_at,
                completed_at=step.completed_at,
                timing=step.timing,
                is_parallel=step.is_parallel,
            )
            for step in page.steps
            if step.started_at is not None or step.completed_at is not None
        ],
        "timing_labels": Timing.LABELS,
        "events": events,
        "actions": actions,
    }


@officer_required
def dossier_detail(request, pk: int):
    """Everything about one dossier for its officers, and the actions their roles allow now."""
    dossier = dossier_page_get_for_officer(user=request.user, pk=pk)
    # The page shows the applicant's CCCD and contacts: who opened it is recorded (Decree 13/2023).
    personal_data_access_record(dossier=dossier, viewer=request.user, channel="page")
    return render(request, "dossiers/officer/dossier.html", _dossier_context(request, dossier))


@officer_required
@require_POST
def dossier_action(request, pk: int, action: str):
    """Run one action through its service with the version the form carried; re-show the page on error."""
    dossier = dossier_get_for_officer(user=request.user, pk=pk)
    spec = ACTIONS.get(action)
    if spec is None:
        raise Http404("unknown action")
    form = _action_form(spec, dossier, request.user, request.POST, request.FILES)
    if not form.is_valid():
        context = _dossier_context(request, dossier, failed=(spec.name, form))
        return render(request, "dossiers/officer/dossier.html", context, status=400)
    try:
        updated = spec.run(request.user, dossier, form)
    except services.DossierError as exc:
        fresh = dossier_get_for_officer(user=request.user, pk=pk)
        if isinstance(exc, services.ConflictError) or exc.field not in form.fields:
            # Show the page as it is now; keep what the officer typed, with the current version.
            typed = {name: request.POST.get(name) for name in form.fields if name != "version"}
            form = _action_form(spec, fresh, request.user, initial=typed)
        else:
            form.add_error(exc.field, exc.message)
        status = (
            409
            if isinstance(exc, services.ConflictError)
            else 403
            if isinstance(exc, services.NotAllowedError)
            else 400
        )
        context = _dossier_context(request, fresh, failed=(spec.name, form))
        context["action_error"] = exc.message
        return render(request, "dossiers/officer/dossier.html", context, status=status)
    messages.success(request, spec.success(updated))
    return redirect("dossiers:officer_dossier", pk=updated.pk)


# --- counter submission -----------------------------------------------------------------------


class CounterStartForm(ApplicantForm):
    procedure = forms.ModelChoiceField(label=gettext_lazy("Thủ tục"), queryset=Procedure.objects.none())
    agency = forms.ModelChoiceField(label=gettext_lazy("Cơ quan giải quyết"), queryset=Agency.objects.none())
    field_order = ["procedure", "agency"]

    def __init__(self, *args, reception_ids: set[int], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["procedure"].queryset = (
            Procedure.objects.published()
            .filter(channel_counter=True, agencies__in=reception_ids)
            .distinct()
            .order_by("name")
        )
        self.fields["agency"].queryset = (
            Agency.objects.filter(pk__in=reception_ids, procedures__is_published=True).distinct().order_by("path")
        )

    def clean(self):
        data = super().clean()
        procedure, agency = data.get("procedure"), data.get("agency")
        if procedure and agency and not procedure.agencies.filter(pk=agency.pk).exists():
            self.add_error("agency", _("Cơ quan đã chọn không giải quyết thủ tục này."))
        return data


@officer_required
def counter_new(request):
    """A reception officer starts a dossier for a walk-in applicant: procedure, agency, applicant."""
    reception_ids = officer_agency_ids(request.user, (Role.RECEPTION,))
    if not reception_ids:
        return render(request, "dossiers/officer/forbidden.html", status=403)
    form = CounterStartForm(request.POST or None, reception_ids=reception_ids)
    if request.method == "POST" and form.is_valid():
        applicant = {name: form.cleaned_data[name] for name in ApplicantForm.base_fields}
        try:
            dossier = services.dossier_create_at_counter(
                procedure=form.cleaned_data["procedure"],
                agency=form.cleaned_data["agency"],
                officer=request.user,
                applicant=applicant,
            )
        except services.DossierError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, _("Đã tạo hồ sơ. Vui lòng nhập tờ khai và tải lên giấy tờ."))
            return redirect("dossiers:officer_counter_edit", public_id=dossier.public_id)
    status = 400 if request.method == "POST" else 200
    return render(request, "dossiers/officer/counter_new.html", {"form": form}, status=status)


def _counter_dossier(request, public_id) -> Dossier:
    """A counter dossier this officer entered (found as its submitter), else 404."""
    return counter_dossier_get_for_officer(user=request.user, public_id=public_id)


class CounterSubmitForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)


@officer_required
def counter_edit(request, public_id):
    """Answers, scans and delivery of a counter draft, then submission (and reception at once)."""
    dossier = _counter_dossier(request, public_id)
    if dossier.state != S.DRAFT:
        return redirect("dossiers:officer_dossier", pk=dossier.pk)
    snapshot = dossier.snapshot
    fields = snapshot.get("form_fields", [])
    part = request.POST.get("part", "") if request.method == "POST" else ""
    user = request.user

    applicant_form = ApplicantForm(
        request.POST if part == "applicant" else None,
        initial={name: getattr(dossier, name) for name in ApplicantForm.base_fields},
        auto_id="id_applicant_%s",
    )
    answers_form = AnswersForm(
        request.POST if part == "answers" else None, fields=fields, initial=dossier.answers, auto_id="id_answers_%s"
    )
    delivery_form = DeliveryForm(
        request.POST if part == "delivery" else None,
        postal_allowed=dossier.procedure.channel_postal,
        initial={"channel_out": dossier.channel_out, "postal_address": dossier.postal_address},
        auto_id="id_delivery_%s",
    )
    upload_error = None
    error = None
    try:
        if part == "applicant" and applicant_form.is_valid():
            services.dossier_save_answers(dossier=dossier, user=user, answers={}, applicant=applicant_form.cleaned_data)
            messages.success(request, _("Đã lưu thông tin người nộp."))
            return redirect("dossiers:officer_counter_edit", public_id=public_id)
        if part == "answers" and answers_form.is_valid():
            services.dossier_save_answers(dossier=dossier, user=user, answers=answers_form.cleaned_answers)
            messages.success(request, _("Đã lưu nội dung tờ khai."))
            return redirect("dossiers:officer_counter_edit", public_id=public_id)
        if part == "delivery" and delivery_form.is_valid():
            services.dossier_set_delivery(dossier=dossier, user=user, **delivery_form.cleaned_data)
            messages.success(request, _("Đã lưu hình thức nhận kết quả."))
            return redirect("dossiers:officer_counter_edit", public_id=public_id)
        if part == "upload":
            upload_form = UploadForm(request.POST, request.FILES)
            if upload_form.is_valid():
                services.dossier_attach_file(
                    dossier=dossier,
                    user=user,
                    requirement_id=upload_form.cleaned_data["requirement"],
                    upload=upload_form.cleaned_data["file"],
                )
                messages.success(request, _("Đã tải lên tệp."))
                return redirect("dossiers:officer_counter_edit", public_id=public_id)
            upload_error = (upload_form.data.get("requirement"), _("Vui lòng chọn tệp để tải lên."))
        if part == "remove":
            file = (
                dossier.files.filter(public_id=request.POST.get("file", "")).first()
                if _is_uuid(request.POST.get("file", ""))
                else None
            )
            if file is None:
                raise Http404("file not found")
            services.dossier_remove_file(dossier=dossier, user=user, file=file)
            messages.success(request, _("Đã xóa tệp."))
            return redirect("dossiers:officer_counter_edit", public_id=public_id)
        if part == "submit":
            submit_form = CounterSubmitForm(request.POST)
            if submit_form.is_valid():
                submitted = services.dossier_submit(
                    dossier=dossier, user=user, expected_version=submit_form.cleaned_data["version"]
                )
                if "receive_now" not in request.POST:
                    messages.success(request, _("Đã nộp hồ sơ. Hồ sơ chờ tiếp nhận."))
                    return redirect("dossiers:officer_dossier", pk=submitted.pk)
                try:
                    received = services.dossier_receive(
                        dossier=submitted, officer=user, expected_version=submitted.version
                    )
                except services.DossierError as exc:
                    # The submission stands: the dossier waits in the new-dossiers tab.
                    messages.error(request, _("Đã nộp hồ sơ nhưng chưa tiếp nhận được: %(m)s") % {"m": exc.message})
                    return redirect("dossiers:officer_dossier", pk=submitted.pk)
                messages.success(request, _received_message(received))
                return redirect("dossiers:officer_dossier", pk=received.pk)
            error = _("Biểu mẫu đã hết hạn, vui lòng tải lại trang.")
    except services.DossierError as exc:
        if part == "upload":
            upload_error = (request.POST.get("requirement"), exc.message)
        else:
            error = exc.message
        dossier = _counter_dossier(request, public_id)

    files = list(dossier.files.filter(is_current=True).order_by("created_at", "id"))
    documents = [
        {
            **document,
            "files": [f for f in files if f.requirement_id == document["id"]],
            "form": UploadForm(initial={"requirement": document["id"]}, auto_id=f"id_upload_{document['id']}_%s"),
            "error": upload_error[1] if upload_error and upload_error[0] == str(document["id"]) else "",
        }
        for document in services.snapshot_documents(snapshot)
    ]
    context = {
        "dossier": dossier,
        "procedure_name": snapshot.get("name", dossier.procedure.name),
        "applicant_form": applicant_form,
        "answers_form": answers_form,
        "delivery_form": delivery_form,
        "documents": documents,
        "missing": services.dossier_missing_items(dossier),
        "error": error,
        "upload_error": upload_error[1] if upload_error and not any(d["error"] for d in documents) else "",
    }
    failed = request.method == "POST"
    return render(request, "dossiers/officer/counter_edit.html", context, status=400 if failed else 200)


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


# --- register (Form 07) -----------------------------------------------------------------------

REGISTER_MAX_DAYS = 366


class RegisterForm(forms.Form):
    agency = forms.ModelChoiceField(label=gettext_lazy("Cơ quan"), queryset=Agency.objects.none(), empty_label=None)
    start = forms.DateField(label=gettext_lazy("Từ ngày"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=gettext_lazy("Đến ngày"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = (
            Agency.objects.filter(memberships__user=user, memberships__role__in=STAFF_ROLES).distinct().order_by("path")
        )

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if start > end:
                self.add_error("end", _("Ngày kết thúc phải sau ngày bắt đầu."))
            elif (end - start).days >= REGISTER_MAX_DAYS:
                self.add_error("end", _("Mỗi lần in sổ tối đa %(days)s ngày.") % {"days": REGISTER_MAX_DAYS})
        return data


@officer_required
def register(request):
    """Form 07: the register of dossiers received by one of the officer's agencies over a period, as a PDF."""
    today = timezone.localdate()
    if "start" not in request.GET:
        form = RegisterForm(user=request.user, initial={"start": today.replace(day=1), "end": today})
        return render(request, "dossiers/officer/register.html", {"form": form})
    form = RegisterForm(request.GET, user=request.user)
    if not form.is_valid():
        return render(request, "dossiers/officer/register.html", {"form": form}, status=400)
    agency, start, end = (form.cleaned_data[k] for k in ("agency", "start", "end"))
    subtree = list(agency.subtree().values_list("pk", flat=True))
    dossiers = list(
        dossiers_for_officer(request.user)
        .filter(Q(agency_id__in=subtree) | Q(receiving_agency_id__in=subtree))
        .filter(received_at__gte=_start_of(start), received_at__lt=_start_of(end + dt.timedelta(days=1)))
        .select_related("procedure", "agency", "receiving_agency", "assignee")
        .order_by("received_at", "id")
    )
    pdf = render_register(agency=agency, start=start, end=end, dossiers=dossiers)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="so-theo-doi-ho-so-{start:%Y%m%d}-{end:%Y%m%d}.pdf"'
    return response


urlpatterns = [
    path("can-bo/ho-so/", queue, name="officer_queue"),
    path("can-bo/ho-so/phan-cong/", bulk_assign, name="officer_bulk_assign"),
    path("can-bo/ho-so/<int:pk>/", dossier_detail, name="officer_dossier"),
    path("can-bo/ho-so/<int:pk>/thao-tac/<slug:action>/", dossier_action, name="officer_dossier_action"),
    path("can-bo/tiep-nhan-truc-tiep/", counter_new, name="officer_counter_new"),
    path("can-bo/tiep-nhan-truc-tiep/<uuid:public_id>/", counter_edit, name="officer_counter_edit"),
    path("can-bo/so-theo-doi/", register, name="officer_register"),
]
