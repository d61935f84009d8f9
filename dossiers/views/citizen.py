"""The citizen's journey: start a dossier, fill it in page by page, upload, submit, follow, rate.

Every page works without JavaScript (plain forms, POST-redirect-GET; a form with errors is shown
again with them) and is never cached, since each shows personal data (ASVS 8.2.1). Dossiers are
fetched only through selectors.dossier_get_for_citizen, which answers 404 for anything that is not
the user's own and logs the refusal; every change goes through dossiers.services, whose Vietnamese
error messages are shown as they are.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django_fsm import can_proceed

from dossiers.privacy.services import consent_record
from procedures.calendar import Timing, WorkingCalendar
from procedures.constants import DOCUMENT_TYPES
from procedures.selectors import procedure_get_public

from .. import selectors, services
from ..constants import (
    RATING_CRITERIA,
    RATING_SCORES,
    STATE_EXPLANATIONS,
    Action,
    DossierState,
    FileKind,
    ResultChannel,
    SupplementStage,
)
from ..forms import (
    DEFAULT_SECTION,
    AnswersForm,
    ApplicantForm,
    DeliveryForm,
    RatingForm,
    UploadForm,
    _jsonable,
    applicant_codes,
    applicant_extra_fields,
    display_answer,
    own_sections,
    validate_answers,
)
from ..models import Dossier, DossierFile, DossierRating

# Refusals are logged where the selectors log theirs, so that one search finds every probe.
access_logger = logging.getLogger("dossiers.access")
S = DossierState
PAGE_SIZE = 20
UPLOADED_KINDS = (FileKind.SUBMITTED, FileKind.SUPPLEMENT)
# Notes the citizen is meant to read; others (consultations, send-backs) are internal working notes.
PUBLIC_NOTE_ACTIONS = {
    Action.REQUEST_SUPPLEMENT,
    Action.SUPPLEMENT,
    Action.REFUSE,
    Action.STOP,
    Action.APOLOGISE,
    Action.WITHDRAW,
}
RETURN_TO_REVIEW = "review"


def citizen_page(*methods: str):
    """Logged-in users only, never cached, only the given HTTP methods."""

    def decorate(view):
        return never_cache(login_required(require_http_methods(list(methods))(view)))

    return decorate


# --- small forms of these pages ---------------------------------------------------------------


class AgencyForm(forms.Form):
    agency = forms.ModelChoiceField(
        label=gettext_lazy("Cơ quan giải quyết"),
        queryset=None,
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={
            "required": gettext_lazy("Vui lòng chọn cơ quan giải quyết."),
            "invalid_choice": gettext_lazy("Cơ quan đã chọn không giải quyết thủ tục này."),
        },
    )

    def __init__(self, *args, agencies: QuerySet, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = agencies
        self.fields["agency"].label_from_instance = lambda agency: (
            f"{agency.name} – {agency.address}" if agency.address else agency.name
        )


class ApplicantStepForm(ApplicantForm):
    """The applicant step: their details, asked once, and the other questions about them.

    The procedure's questions for the applicant's own name, CCCD, phone or e-mail are answered by
    these details (required here when the procedure requires them); the rest of those topics'
    questions follow on the same page.
    """

    def __init__(self, *args, procedure_fields: list[dict], **kwargs):
        super().__init__(*args, **kwargs)
        self.codes = applicant_codes(procedure_fields)
        for spec in procedure_fields:
            if spec["code"] in self.codes and spec.get("required"):
                self.fields[self.codes[spec["code"]]].required = True
        self.extra = AnswersForm(fields=applicant_extra_fields(procedure_fields))
        for name, field in self.extra.fields.items():
            self.fields[name] = field

    @property
    def cleaned_answers(self) -> dict:
        answers = {code: self.cleaned_data.get(attr) or "" for code, attr in self.codes.items()}
        for name in self.extra.answer_codes:
            answers[name] = _jsonable(self.cleaned_data.get(name))
        return answers


class VersionForm(forms.Form):
    """The version of the dossier the page showed: a stale or repeated POST changes nothing."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)


class WithdrawForm(VersionForm):
    reason = forms.CharField(
        label=gettext_lazy("Lý do (không bắt buộc)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class StopRequestForm(VersionForm):
    reason = forms.CharField(
        label=gettext_lazy("Lý do đề nghị dừng giải quyết"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class SupplementForm(VersionForm):
    note = forms.CharField(
        label=gettext_lazy("Nội dung giải trình"),
        help_text=gettext_lazy("Không bắt buộc nếu bạn đã tải lên đủ giấy tờ được yêu cầu."),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ReuseForm(forms.Form):
    requirement = forms.IntegerField(widget=forms.HiddenInput)
    source = forms.UUIDField(error_messages={"required": gettext_lazy("Vui lòng chọn một giấy tờ.")})


# --- helpers ----------------------------------------------------------------------------------


def _get(request: HttpRequest, public_id) -> Dossier:
    return selectors.dossier_get_for_citizen(user=request.user, public_id=public_id)


def _form_fields(dossier: Dossier) -> list[dict]:
    return dossier.snapshot.get("form_fields", [])


def _section_fields(fields: list[dict], name: str) -> list[dict]:
    return [f for f in fields if (f.get("section") or str(DEFAULT_SECTION)) == name]


def _service_error(form: forms.Form, exc: services.DossierError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


def _mark_optional(form: forms.Form) -> None:
    """Say which questions may be left empty, rather than starring the required ones."""
    for field in form.fields.values():
        if not field.required and not field.widget.is_hidden:
            field.label = f"{field.label} ({_('không bắt buộc')})"


def _not_editable(request: HttpRequest, dossier: Dossier) -> HttpResponse:
    messages.info(request, _("Hồ sơ đã nộp, không thể sửa nội dung. Bạn có thể theo dõi hồ sơ tại đây."))
    return redirect("dossiers:detail", dossier.public_id)


@dataclass
class Step:
    key: str
    title: str
    url: str


def _steps(dossier: Dossier) -> list[Step]:
    pid = dossier.public_id
    steps = [Step("applicant", _("Thông tin người nộp hồ sơ"), reverse("dossiers:applicant", args=[pid]))]
    for index, name in enumerate(own_sections(_form_fields(dossier)), start=1):
        steps.append(Step(f"section-{index}", name, reverse("dossiers:section", args=[pid, index])))
    steps += [
        Step("documents", _("Giấy tờ kèm theo"), reverse("dossiers:documents", args=[pid])),
        Step("delivery", _("Hình thức nhận kết quả"), reverse("dossiers:delivery", args=[pid])),
        Step("review", _("Kiểm tra và nộp hồ sơ"), reverse("dossiers:review", args=[pid])),
    ]
    return steps


def _progress(dossier: Dossier, key: str) -> dict:
    steps = _steps(dossier)
    position = next(i for i, step in enumerate(steps) if step.key == key)
    return {
        "steps": steps,
        "key": key,
        "number": position + 1,
        "total": len(steps),
        "title": steps[position].title,
        "previous_url": steps[position - 1].url if position else "",
        "next_url": steps[position + 1].url if position + 1 < len(steps) else "",
    }


def _after_step(request: HttpRequest, dossier: Dossier, progress: dict) -> HttpResponse:
    if request.POST.get("action") == "save_exit":
        messages.success(request, _("Đã lưu bản nháp. Bạn có thể tiếp tục khai bất cứ lúc nào."))
        return redirect("dossiers:my_dossiers")
    if request.POST.get("return_to") == RETURN_TO_REVIEW:
        return redirect("dossiers:review", dossier.public_id)
    return redirect(progress["next_url"])


def _return_to(request: HttpRequest) -> str:
    return RETURN_TO_REVIEW if (request.GET.get("from") or request.POST.get("return_to")) == "review" else ""


def _render_step(request: HttpRequest, dossier: Dossier, key: str, form: forms.Form, **extra) -> HttpResponse:
    context = {
        "dossier": dossier,
        "form": form,
        "progress": _progress(dossier, key),
        "return_to": _return_to(request),
        **extra,
    }
    return render(request, "dossiers/citizen/step_form.html", context)


def _allowed_types(document: dict) -> list[str]:
    return [t.strip().lower() for t in (document.get("allowed_types") or "pdf,jpg,png").split(",") if t.strip()]


def _reusable(user, dossier: Dossier) -> QuerySet[DossierFile]:
    """Documents the user filed with their other dossiers (their personal data store), newest first.

    A result counts only once it was approved: before that the applicant may not see it.
    """
    own = selectors.dossiers_of_citizen(user).filter(owner=user).exclude(pk=dossier.pk)
    return (
        DossierFile.objects.filter(dossier__in=own, is_current=True)
        .filter(Q(kind__in=UPLOADED_KINDS) | Q(kind=FileKind.RESULT, dossier__state__in=[S.RESULT_READY, S.RETURNED]))
        .select_related("dossier__procedure")
        .order_by("-created_at", "-id")
    )


def _reusable_choices(user, dossier: Dossier) -> list[DossierFile]:
    """The store without repeats: a document reused five times is offered once."""
    seen: set[str] = set()
    choices = []
    for file in _reusable(user, dossier)[:200]:
        if file.sha256 not in seen:
            seen.add(file.sha256)
            choices.append(file)
    return choices


def _supplement_since(dossier: Dossier) -> dt.datetime | None:
    """When the open supplement request began: files added since then are the answer to it."""
    if dossier.state != S.SUPPLEMENT_REQUESTED:
        return None
    pause = dossier.pauses.filter(ended_at__isnull=True).order_by("-started_at").first()
    return pause.started_at if pause else None


def _is_removable(dossier: Dossier, file: DossierFile, since: dt.datetime | None) -> bool:
    if file.kind not in UPLOADED_KINDS or not file.is_current:
        return False
    if dossier.state == S.DRAFT:
        return True
    # While answering a supplement request only this round's new files; what was filed before stays.
    return (
        dossier.state == S.SUPPLEMENT_REQUESTED
        and file.kind == FileKind.SUPPLEMENT
        and since is not None
        and file.created_at >= since
    )


class StepUploadForm(UploadForm):
    """The file field of one document inside the documents step's single form.

    All documents share one form there (so that "Tiếp tục" also sends what was chosen), hence a
    name per document, ``doc<id>_file``; the element id stays ``id_doc<id>_file`` as on the
    supplement forms.
    """

    def add_prefix(self, field_name: str) -> str:
        return f"{self.prefix}_{field_name}" if self.prefix else field_name


def _upload_form(document: dict, data=None, files=None, *, step: bool = False) -> UploadForm:
    allowed = _allowed_types(document)
    if step:
        form = StepUploadForm(
            data, files, initial={"requirement": document["id"]}, prefix=f"doc{document['id']}", auto_id="id_%s"
        )
    else:
        form = UploadForm(data, files, initial={"requirement": document["id"]}, auto_id=f"id_doc{document['id']}_%s")
    field = form.fields["file"]
    field.label = _("Chọn tệp cho “%(name)s”") % {"name": document["name"]}
    field.help_text = _(
        "Định dạng %(types)s, tối đa %(max)s MB mỗi tệp. Có thể tải lên nhiều tệp, mỗi lần một tệp."
    ) % {"types": ", ".join(t.upper() for t in allowed), "max": int(document.get("max_size_mb") or 10)}
    # A hint for the phone's file picker only: the server reads the type from the content.
    field.widget.attrs["accept"] = ",".join(
        [f".{t}" for t in allowed] + [DOCUMENT_TYPES[t] for t in allowed if t in DOCUMENT_TYPES]
    )
    return form


def _document_items(
    request: HttpRequest,
    dossier: Dossier,
    failed: UploadForm | None = None,
    *,
    offer_reuse: bool = True,
    step: bool = False,
    failed_forms: dict[str, UploadForm] | None = None,
) -> list[dict]:
    """One entry per required document: its files, its upload form and the documents that may be reused.

    With ``step`` the upload forms are the per-document fields of the documents step's single form;
    ``failed_forms`` (by requirement id) are shown with their errors in place of fresh ones.
    """
    files = list(dossier.files.filter(kind__in=UPLOADED_KINDS, is_current=True).order_by("created_at", "id"))
    since = _supplement_since(dossier)
    store = _reusable_choices(request.user, dossier) if offer_reuse else []
    failed_id = failed.data.get("requirement") if failed is not None else None
    failed_forms = dict(failed_forms or {})
    if step and failed is not None and failed_id is not None:
        failed_forms.setdefault(str(failed_id), failed)
    items = []
    for document in services.snapshot_documents(dossier.snapshot):
        allowed = _allowed_types(document)
        mimes = {DOCUMENT_TYPES[t] for t in allowed if t in DOCUMENT_TYPES}
        own = [f for f in files if f.requirement_id == document["id"]]
        for file in own:
            file.removable = _is_removable(dossier, file, since)
        items.append(
            {
                "document": document,
                "files": own,
                "missing": bool(document.get("is_mandatory")) and not own,
                "form": _item_form(document, failed, failed_id, failed_forms, step=step),
                "reusable": [f for f in store if f.content_type in mimes],
            }
        )
    return items


def _item_form(
    document: dict, failed: UploadForm | None, failed_id, failed_forms: dict[str, UploadForm], *, step: bool
) -> UploadForm:
    key = str(document["id"])
    if not step:
        return failed if failed is not None and failed_id == key else _upload_form(document)
    form = failed_forms.get(key)
    if form is None:
        return _upload_form(document, step=True)
    if isinstance(form, StepUploadForm):
        return form
    # An error from the single-file upload view, shown on the step's own field for that document.
    shown = _upload_form(document, step=True)
    shown._errors = form.errors
    return shown


def _upload_problems(forms_by_id: dict[str, UploadForm]) -> list[dict]:
    """The error summary's lines for the files that could not be stored, linked to their fields."""
    problems = []
    for form in forms_by_id.values():
        for name, errors in form.errors.items():
            field = form[name] if name in form.fields else None
            for error in errors:
                if field is None or field.is_hidden:
                    problems.append({"message": error, "url": ""})
                else:
                    problems.append({"message": f"{field.label}: {error}", "url": f"#{field.id_for_label}"})
    return problems


def _display(spec: dict, value) -> str:
    return display_answer(spec, value)


def _estimated_fees(dossier: Dossier) -> list[dict]:
    """The fee lines that will apply with the current answers (the same quote as at submission)."""
    return [{"name": line.name, "amount": line.total} for line in services.dossier_fee_quote(dossier).lines]


def _review_context(request: HttpRequest, dossier: Dossier) -> dict:
    """Everything entered, each part with its "Sửa" link, and what still stops the submission."""
    pid = dossier.public_id
    problems: list[dict] = []
    applicant_url = reverse("dossiers:applicant", args=[pid]) + "?from=review"
    applicant_form = ApplicantForm({name: getattr(dossier, name) for name in ApplicantForm.base_fields})
    if not applicant_form.is_valid():
        for name, errors in applicant_form.errors.items():
            label = applicant_form.fields[name].label if name in applicant_form.fields else ""
            problems.append({"message": f"{label}: {' '.join(errors)}", "url": f"{applicant_url}#id_{name}"})
    applicant_rows = [
        (applicant_form.fields[name].label, getattr(dossier, name) or "—") for name in ApplicantForm.base_fields
    ]

    fields = _form_fields(dossier)
    extra = applicant_extra_fields(fields)
    applicant_rows += [(spec["label"], _display(spec, dossier.answers.get(spec["code"]))) for spec in extra]
    codes = applicant_codes(fields)
    asked_there = [spec for spec in fields if spec["code"] in codes] + extra
    problems += [{"message": msg, "url": applicant_url} for msg in validate_answers(asked_there, dossier.answers)]
    answer_sections = []
    for index, name in enumerate(own_sections(fields), start=1):
        url = reverse("dossiers:section", args=[pid, index]) + "?from=review"
        own = sorted(_section_fields(fields, name), key=lambda f: int(f.get("order") or 0))
        answer_sections.append(
            {
                "name": name,
                "url": url,
                "rows": [(spec["label"], _display(spec, dossier.answers.get(spec["code"]))) for spec in own],
            }
        )
        problems += [{"message": message, "url": url} for message in validate_answers(own, dossier.answers)]

    items = _document_items(request, dossier, offer_reuse=False)
    documents_url = reverse("dossiers:documents", args=[pid])
    for item in items:
        if item["missing"]:
            problems.append(
                {
                    "message": _("Thiếu giấy tờ bắt buộc: %(name)s") % {"name": item["document"]["name"]},
                    "url": f"{documents_url}#doc-{item['document']['id']}",
                }
            )
    if dossier.channel_out == ResultChannel.POSTAL and not dossier.postal_address:
        problems.append(
            {
                "message": _("Thiếu địa chỉ nhận kết quả qua bưu chính."),
                "url": reverse("dossiers:delivery", args=[pid]) + "?from=review",
            }
        )
    if not problems:
        # Whatever else the service checks, said in its own words.
        problems = [{"message": message, "url": ""} for message in services.dossier_missing_items(dossier)]
    from procedures.fees import exemptions_offered

    quote = services.dossier_fee_quote(dossier)
    fees = [{"name": line.name, "amount": line.total} for line in quote.lines]
    return {
        "fee_breakdown": dossier.fee_breakdown if dossier.fee_paid_at else quote.as_dict(),
        "payment_timing": services._payment_timing(dossier),
        "exemptions": exemptions_offered(procedure=dossier.procedure) if quote.base else [],
        "dossier": dossier,
        "progress": _progress(dossier, "review"),
        "problems": problems,
        "applicant_rows": applicant_rows,
        "applicant_url": applicant_url,
        "answer_sections": answer_sections,
        "items": items,
        "documents_url": documents_url,
        "delivery_url": reverse("dossiers:delivery", args=[pid]) + "?from=review",
        "fees": fees,
        "fee_total": sum(line["amount"] for line in fees),
        "submit_form": VersionForm(initial={"version": dossier.version}),
    }


def _detail_context(request: HttpRequest, dossier: Dossier, **forms_with_errors) -> dict:
    state = dossier.state
    files = list(dossier.files.order_by("created_at", "id"))
    rating = DossierRating.objects.filter(dossier=dossier).first()
    events = list(dossier.events.select_related("agency").order_by("created_at", "id"))
    for event in events:
        event.by_applicant = event.actor_id is not None and event.actor_id in (dossier.owner_id, request.user.pk)
        event.public_note = event.note if event.action in PUBLIC_NOTE_ACTIONS else ""
    timeline = selectors.dossier_timeline(dossier)
    for row in timeline:
        row.timing_label = Timing.LABELS.get(row.timing, "")
    can_withdraw = can_proceed(dossier.withdraw) and not (
        state == S.SUPPLEMENT_REQUESTED and dossier.supplement_stage == SupplementStage.APPRAISAL
    )
    version = {"version": dossier.version}
    can_request_stop = (
        state in (S.RECEIVED, S.AWAITING_PAYMENT, S.IN_PROCESSING, S.AWAITING_APPROVAL)
        or (state == S.SUPPLEMENT_REQUESTED and dossier.supplement_stage == SupplementStage.APPRAISAL)
    ) and dossier.stop_requested_at is None
    return {
        "can_request_stop": can_request_stop,
        "stop_form": forms_with_errors.get("stop_form") or StopRequestForm(initial=version),
        "dossier": dossier,
        "explanation": STATE_EXPLANATIONS.get(state, ""),
        "is_draft": state == S.DRAFT,
        "events": events,
        "timeline": timeline,
        "fees": list(dossier.fees.all()),
        "uploaded_files": [f for f in files if f.kind in UPLOADED_KINDS],
        "result_files": (
            [f for f in files if f.kind == FileKind.RESULT and f.is_current]
            if state in (S.RESULT_READY, S.RETURNED)
            else []
        ),
        "official_forms": [f for f in files if f.kind == FileKind.FORM],
        "can_withdraw": can_withdraw,
        "withdraw_form": forms_with_errors.get("withdraw_form") or WithdrawForm(initial=version),
        "supplement_items": _document_items(request, dossier, forms_with_errors.get("upload_form"))
        if state == S.SUPPLEMENT_REQUESTED
        else [],
        "supplement_form": forms_with_errors.get("supplement_form") or SupplementForm(initial=version),
        "rating": rating,
        "rating_form": (forms_with_errors.get("rating_form") or RatingForm())
        if state == S.RETURNED and rating is None
        else None,
        "rating_scores": _rating_rows(rating),
        # The form that failed, for the error summary at the top of the page.
        "error_form": next(iter(forms_with_errors.values()), None),
    }


def _rating_rows(rating: DossierRating | None) -> list[tuple[str, str]]:
    if rating is None:
        return []
    return [
        (RATING_CRITERIA[key], RATING_SCORES.get(score, ""))
        for key, score in rating.scores.items()
        if key in RATING_CRITERIA
    ]


def _render_detail(request: HttpRequest, dossier: Dossier, **forms_with_errors) -> HttpResponse:
    return render(request, "dossiers/citizen/detail.html", _detail_context(request, dossier, **forms_with_errors))


# --- starting a dossier -----------------------------------------------------------------------


@citizen_page("GET", "POST")
def start(request: HttpRequest, code: str) -> HttpResponse:
    """Choose the agency when the procedure has several, then create the draft (from the procedure page)."""
    procedure = procedure_get_public(code=code)
    if not procedure.channel_online:
        raise Http404("not online")
    agencies = procedure.agencies.filter(is_active=True).order_by("path")
    form = AgencyForm(request.POST if "agency" in request.POST else None, agencies=agencies)
    only = agencies.first() if agencies.count() == 1 else None
    drafts = selectors.dossiers_of_citizen(request.user).filter(procedure=procedure, state=S.DRAFT)
    # From the procedure page a citizen who already has drafts is shown them first, so that a second
    # click does not silently start another dossier; the start page's own button confirms.
    confirmed = "confirm" in request.POST or not drafts.exists()
    if request.method == "POST" and confirmed:
        agency = only if only is not None and "agency" not in request.POST else None
        if agency is None and form.is_bound and form.is_valid():
            agency = form.cleaned_data["agency"]
        if agency is not None:
            try:
                dossier = services.dossier_create_draft(procedure=procedure, agency=agency, owner=request.user)
            except services.DossierError as exc:
                messages.error(request, exc.message)
            else:
                return redirect("dossiers:applicant", dossier.public_id)
    return render(
        request,
        "dossiers/citizen/start.html",
        {"procedure": procedure, "form": form, "only": only, "drafts": drafts.order_by("-created_at")[:5]},
    )


# --- the steps --------------------------------------------------------------------------------


@citizen_page("GET", "POST")
def applicant(request: HttpRequest, public_id) -> HttpResponse:
    """Who applies: prefilled from the account when the draft was created, editable."""
    dossier = _get(request, public_id)
    if dossier.state != S.DRAFT:
        return _not_editable(request, dossier)
    fields = _form_fields(dossier)
    initial = {**dossier.answers, **{name: getattr(dossier, name) for name in ApplicantForm.base_fields}}
    form = ApplicantStepForm(
        request.POST if request.method == "POST" else None, initial=initial, procedure_fields=fields
    )
    _mark_optional(form)
    if request.method == "POST" and form.is_valid():
        try:
            services.dossier_save_answers(
                dossier=dossier, user=request.user, answers=form.cleaned_answers, applicant=form.cleaned_data
            )
        except services.DossierError as exc:
            _service_error(form, exc)
        else:
            return _after_step(request, dossier, _progress(dossier, "applicant"))
    return _render_step(
        request,
        dossier,
        "applicant",
        form,
        intro=_("Thông tin được điền sẵn từ tài khoản của bạn. Vui lòng kiểm tra và sửa nếu cần."),
    )


@citizen_page("GET", "POST")
def section(request: HttpRequest, public_id, index: int) -> HttpResponse:
    """One topic of the electronic form; answers are saved on the draft at each page."""
    dossier = _get(request, public_id)
    if dossier.state != S.DRAFT:
        return _not_editable(request, dossier)
    fields = _form_fields(dossier)
    names = own_sections(fields)
    if not 1 <= index <= len(names):
        raise Http404("no such section")
    form = AnswersForm(
        request.POST if request.method == "POST" else None,
        fields=fields,
        section=names[index - 1],
        initial=dossier.answers,
    )
    _mark_optional(form)
    key = f"section-{index}"
    if request.method == "POST" and form.is_valid():
        try:
            services.dossier_save_answers(dossier=dossier, user=request.user, answers=form.cleaned_answers)
        except services.DossierError as exc:
            _service_error(form, exc)
        else:
            return _after_step(request, dossier, _progress(dossier, key))
    return _render_step(request, dossier, key, form)


@citizen_page("GET", "POST")
def documents(request: HttpRequest, public_id) -> HttpResponse:
    """The documents step: one form for every document, so that nothing chosen is ever dropped.

    "Tải lên" and "Tiếp tục" both send the whole form: every file chosen is stored first, and the
    page moves on only when all of them were accepted; otherwise it stays with the errors.
    """
    dossier = _get(request, public_id)
    if dossier.state != S.DRAFT:
        return redirect("dossiers:detail", dossier.public_id)
    if request.method == "POST":
        return _documents_post(request, dossier)
    return _render_documents(request, dossier)


def _documents_post(request: HttpRequest, dossier: Dossier) -> HttpResponse:
    failed: dict[str, UploadForm] = {}
    for document in services.snapshot_documents(dossier.snapshot):
        name = _upload_form(document, step=True).add_prefix("file")
        if name not in request.FILES:
            continue
        form = _upload_form(document, {f"doc{document['id']}_requirement": document["id"]}, request.FILES, step=True)
        if not form.is_valid():
            failed[str(document["id"])] = form
            continue
        try:
            stored = services.dossier_attach_file(
                dossier=dossier, user=request.user, requirement_id=document["id"], upload=form.cleaned_data["file"]
            )
        except services.NotAllowedError as exc:
            messages.error(request, exc.message)
            return redirect("dossiers:detail", dossier.public_id)
        except services.DossierError as exc:
            _service_error(form, exc)
            failed[str(document["id"])] = form
        else:
            messages.success(
                request,
                _("Đã tải lên “%(file)s” cho %(name)s.") % {"file": stored.original_name, "name": document["name"]},
            )
    if failed:
        return _render_documents(request, dossier, failed_forms=failed)
    action = request.POST.get("action")
    if action in ("continue", "save_exit"):
        return _after_step(request, dossier, _progress(dossier, "documents"))
    return _back_to_documents(dossier, request.POST.get("upload") or None)


def _render_documents(
    request: HttpRequest,
    dossier: Dossier,
    failed: UploadForm | None = None,
    *,
    failed_forms: dict[str, UploadForm] | None = None,
) -> HttpResponse:
    all_failed = dict(failed_forms or {})
    if failed is not None and failed.data.get("requirement") is not None:
        all_failed.setdefault(str(failed.data.get("requirement")), failed)
    items = _document_items(request, dossier, failed, step=True, failed_forms=all_failed)
    shown = {str(item["document"]["id"]): item["form"] for item in items if item["form"].errors}
    if failed is not None and not shown and failed.errors:
        shown = {"": failed}
    return render(
        request,
        "dossiers/citizen/documents.html",
        {
            "dossier": dossier,
            "progress": _progress(dossier, "documents"),
            "items": items,
            "failed": bool(shown),
            "upload_problems": _upload_problems(shown),
            "return_to": _return_to(request),
        },
    )


def _back_to_documents(dossier: Dossier, requirement_id) -> HttpResponse:
    if dossier.state == S.SUPPLEMENT_REQUESTED:
        return redirect(reverse("dossiers:detail", args=[dossier.public_id]) + "#bo-sung")
    if dossier.state == S.DRAFT:
        anchor = f"#doc-{requirement_id}" if requirement_id else ""
        return redirect(reverse("dossiers:documents", args=[dossier.public_id]) + anchor)
    return redirect("dossiers:detail", dossier.public_id)


@citizen_page("POST")
def upload(request: HttpRequest, public_id) -> HttpResponse:
    """Store one file for a required document (draft, or answering a supplement request)."""
    dossier = _get(request, public_id)
    requirement_id = request.POST.get("requirement")
    document = next((d for d in services.snapshot_documents(dossier.snapshot) if str(d["id"]) == requirement_id), None)
    if document is None:
        messages.error(request, _("Thành phần hồ sơ không thuộc thủ tục này."))
        return _back_to_documents(dossier, None)
    form = _upload_form(document, request.POST, request.FILES)
    if form.is_valid():
        try:
            stored = services.dossier_attach_file(
                dossier=dossier, user=request.user, requirement_id=document["id"], upload=form.cleaned_data["file"]
            )
        except services.NotAllowedError as exc:
            messages.error(request, exc.message)
            return redirect("dossiers:detail", dossier.public_id)
        except services.DossierError as exc:
            _service_error(form, exc)
        else:
            messages.success(
                request,
                _("Đã tải lên “%(file)s” cho %(name)s.") % {"file": stored.original_name, "name": document["name"]},
            )
            return _back_to_documents(dossier, document["id"])
    if dossier.state == S.SUPPLEMENT_REQUESTED:
        return _render_detail(request, dossier, upload_form=form)
    if dossier.state != S.DRAFT:
        return redirect("dossiers:detail", dossier.public_id)
    return _render_documents(request, dossier, failed=form)


@citizen_page("POST")
def reuse(request: HttpRequest, public_id) -> HttpResponse:
    """Attach a document the citizen filed with an earlier dossier ("Dùng lại giấy tờ đã nộp")."""
    dossier = _get(request, public_id)
    form = ReuseForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Vui lòng chọn một giấy tờ để dùng lại."))
        return _back_to_documents(dossier, request.POST.get("requirement"))
    requirement_id = form.cleaned_data["requirement"]
    source = _reusable(request.user, dossier).filter(public_id=form.cleaned_data["source"]).first()
    if source is None:
        access_logger.warning(
            "access.refused what=reuse_source id=%s user=%s", form.cleaned_data["source"], request.user.pk
        )
        messages.error(request, _("Không tìm thấy giấy tờ này trong kho dữ liệu của bạn."))
        return _back_to_documents(dossier, requirement_id)
    try:
        services.dossier_reuse_file(dossier=dossier, user=request.user, requirement_id=requirement_id, source=source)
    except services.DossierError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Đã dùng lại “%(file)s”.") % {"file": source.original_name})
    return _back_to_documents(dossier, requirement_id)


@citizen_page("POST")
def remove_file(request: HttpRequest, public_id, file_id) -> HttpResponse:
    dossier = _get(request, public_id)
    file = dossier.files.filter(public_id=file_id).first()
    if file is None or not _is_removable(dossier, file, _supplement_since(dossier)):
        access_logger.warning("access.refused what=remove_file id=%s user=%s", file_id, request.user.pk)
        raise Http404("not found")
    try:
        services.dossier_remove_file(dossier=dossier, user=request.user, file=file)
    except services.DossierError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Đã xóa tệp “%(file)s”.") % {"file": file.original_name})
    return _back_to_documents(dossier, file.requirement_id)


@citizen_page("GET", "POST")
def delivery(request: HttpRequest, public_id) -> HttpResponse:
    """How the result comes back; postal only when the procedure offers it."""
    dossier = _get(request, public_id)
    if dossier.state != S.DRAFT:
        return _not_editable(request, dossier)
    form = DeliveryForm(
        request.POST if request.method == "POST" else None,
        postal_allowed=dossier.procedure.channel_postal,
        initial={
            "channel_out": dossier.channel_out,
            "postal_address": dossier.postal_address or dossier.applicant_address,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.dossier_set_delivery(
                dossier=dossier,
                user=request.user,
                channel_out=form.cleaned_data["channel_out"],
                postal_address=form.cleaned_data.get("postal_address") or "",
            )
        except services.DossierError as exc:
            _service_error(form, exc)
        else:
            return _after_step(request, dossier, _progress(dossier, "delivery"))
    return _render_step(request, dossier, "delivery", form)


@citizen_page("GET")
def review(request: HttpRequest, public_id) -> HttpResponse:
    """Check your answers: everything on one page with "Sửa" links, then submit."""
    dossier = _get(request, public_id)
    if dossier.state != S.DRAFT:
        return redirect("dossiers:detail", dossier.public_id)
    return render(request, "dossiers/citizen/review.html", _review_context(request, dossier))


@citizen_page("POST")
def submit(request: HttpRequest, public_id) -> HttpResponse:
    """Submit the version of the draft the citizen checked; a repeated or stale POST changes nothing."""
    dossier = _get(request, public_id)
    form = VersionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Trang đã cũ. Vui lòng kiểm tra lại hồ sơ rồi nộp."))
        return redirect("dossiers:review", dossier.public_id)
    context = _review_context(request, dossier) if dossier.state == S.DRAFT else None
    if context is not None and context["problems"]:
        context["submit_error"] = _("Hồ sơ chưa đủ để nộp. Vui lòng bổ sung các mục dưới đây.")
        return render(request, "dossiers/citizen/review.html", context)
    try:
        with transaction.atomic():
            services.dossier_submit(dossier=dossier, user=request.user, expected_version=form.cleaned_data["version"])
            # Processing rests on the agency's legal duty (the notice on the page); the other
            # purposes need the box ticked, and an unticked box is recorded as a refusal.
            consent_record(
                user=request.user,
                dossier=dossier,
                context="submission",
                choices={
                    "processing": True,
                    "notifications": request.POST.get("consent_notifications") == "on",
                    "data_reuse": request.POST.get("consent_data_reuse") == "on",
                },
            )
    except (services.ConflictError, services.NotAllowedError) as exc:
        current = _get(request, public_id)
        if current.state != S.DRAFT:
            when = timezone.localtime(current.submitted_at).strftime("%d/%m/%Y %H:%M") if current.submitted_at else ""
            messages.info(
                request,
                _("Hồ sơ này đã được nộp lúc %(when)s. Yêu cầu nộp lần nữa không được thực hiện.") % {"when": when}
                if when
                else exc.message,
            )
            return redirect("dossiers:detail", current.public_id)
        messages.error(
            request,
            _("Hồ sơ đã thay đổi sau khi bạn mở trang kiểm tra (có thể ở một cửa sổ khác). Vui lòng xem lại rồi nộp."),
        )
        return redirect("dossiers:review", current.public_id)
    except services.DossierError as exc:
        context = _review_context(request, dossier)
        context["submit_error"] = exc.message
        return render(request, "dossiers/citizen/review.html", context)
    return redirect("dossiers:submitted", dossier.public_id)


@citizen_page("GET")
def submitted(request: HttpRequest, public_id) -> HttpResponse:
    """The confirmation: what was sent and what happens next."""
    dossier = _get(request, public_id)
    if dossier.state == S.DRAFT:
        return redirect("dossiers:review", dossier.public_id)
    if dossier.submitted_at is None:  # a draft withdrawn before it was ever sent
        return redirect("dossiers:detail", dossier.public_id)
    return render(
        request,
        "dossiers/citizen/submitted.html",
        {
            "dossier": dossier,
            "fees": list(dossier.fees.all()),
            "explanation": STATE_EXPLANATIONS.get(dossier.state),
            "reception_by": expected_reception_by(dossier),
            "assisted_by_me": hasattr(dossier, "assistance") and dossier.assistance.helper_id == request.user.pk,
        },
    )


def expected_reception_by(dossier: Dossier) -> dt.datetime | None:
    """When the one-stop shop is expected to have checked the dossier: the close of the next working day.

    Said as an expectation ("dự kiến"): the law sets no deadline for the reception of online dossiers.
    """
    if dossier.submitted_at is None:
        return None
    day = timezone.localtime(dossier.submitted_at).date()
    calendar = WorkingCalendar.load(day)
    close = calendar.hours.afternoon_end
    return timezone.make_aware(dt.datetime.combine(calendar.next_working_day(day), close))


# --- following a dossier ----------------------------------------------------------------------


@citizen_page("GET")
def my_dossiers(request: HttpRequest) -> HttpResponse:
    """ "Hồ sơ của tôi": every dossier of the user, newest first, 20 a page."""
    queryset = (
        selectors.dossiers_of_citizen(request.user).select_related("procedure", "agency").order_by("-created_at", "-id")
    )
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    for dossier in page:
        dossier.explanation = STATE_EXPLANATIONS.get(dossier.state, "")
    return render(request, "dossiers/citizen/my_dossiers.html", {"page": page})


@citizen_page("GET")
def detail(request: HttpRequest, public_id) -> HttpResponse:
    return _render_detail(request, _get(request, public_id))


def _reason_action(request: HttpRequest, public_id, *, form_class, service, form_name: str, done: str) -> HttpResponse:
    """A citizen's action that carries a reason and the version seen (withdraw, ask to stop)."""
    dossier = _get(request, public_id)
    form = form_class(request.POST)
    if not form.is_valid():
        return _render_detail(request, dossier, **{form_name: form})
    try:
        service(
            dossier=dossier,
            user=request.user,
            reason=form.cleaned_data["reason"],
            expected_version=form.cleaned_data["version"],
        )
    except services.DossierError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect("dossiers:detail", dossier.public_id)


@citizen_page("POST")
def withdraw(request: HttpRequest, public_id) -> HttpResponse:
    return _reason_action(
        request,
        public_id,
        form_class=WithdrawForm,
        service=services.dossier_withdraw,
        form_name="withdraw_form",
        done=_("Đã rút hồ sơ."),
    )


@citizen_page("POST")
def request_stop(request: HttpRequest, public_id) -> HttpResponse:
    """ "Đề nghị dừng giải quyết" online (Decree 118/2025 Art 21): recorded; the one-stop unit decides."""
    return _reason_action(
        request,
        public_id,
        form_class=StopRequestForm,
        service=services.dossier_request_stop,
        form_name="stop_form",
        done=_("Đã gửi đề nghị dừng giải quyết. Bộ phận Một cửa sẽ xem xét và thông báo."),
    )


@citizen_page("POST")
def supplement(request: HttpRequest, public_id) -> HttpResponse:
    """ "Gửi bổ sung": send the files uploaded for the supplement request, with an optional explanation."""
    dossier = _get(request, public_id)
    form = SupplementForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, dossier, supplement_form=form)
    try:
        services.dossier_supplement(
            dossier=dossier,
            user=request.user,
            note=form.cleaned_data["note"],
            expected_version=form.cleaned_data["version"],
        )
    except (services.ConflictError, services.NotAllowedError) as exc:
        messages.error(request, exc.message)
    except services.DossierError as exc:
        form.add_error(None, exc.message)
        return _render_detail(request, dossier, supplement_form=form)
    else:
        messages.success(request, _("Đã gửi bổ sung hồ sơ. Cơ quan sẽ tiếp tục xem xét hồ sơ của bạn."))
    return redirect("dossiers:detail", dossier.public_id)


@citizen_page("POST")
def rate(request: HttpRequest, public_id) -> HttpResponse:
    """The satisfaction rating, once, after the result was returned."""
    dossier = _get(request, public_id)
    form = RatingForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, dossier, rating_form=form)
    try:
        services.dossier_rate(
            dossier=dossier, user=request.user, scores=form.scores, comment=form.cleaned_data["comment"]
        )
    except services.DossierError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Cảm ơn bạn đã đánh giá."))
    return redirect(reverse("dossiers:detail", args=[dossier.public_id]) + "#danh-gia")


@never_cache
@login_required
@require_http_methods(["GET"])
def download(request: HttpRequest, public_id) -> HttpResponse:
    """A file of a dossier, for its owner or its officers, as an attachment that is never cached.

    The owner's first download of an electronic result is the return of the result.
    """
    file = selectors.file_get_for_user(user=request.user, public_id=public_id)
    dossier = file.dossier
    if (
        file.kind == FileKind.RESULT
        and dossier.owner_id == request.user.pk
        and dossier.state == S.RESULT_READY
        and dossier.channel_out == ResultChannel.DOWNLOAD
    ):
        # A download running at the same moment may have just returned it: then there is nothing to do.
        with contextlib.suppress(services.DossierError):
            services.dossier_return_result(dossier=dossier, actor=request.user, channel=ResultChannel.DOWNLOAD)
    try:
        handle = file.file.open("rb")
    except FileNotFoundError:
        logging.getLogger("dossiers").error("file.missing file=%s", file.public_id)
        raise Http404("not found") from None
    response = FileResponse(handle, as_attachment=True, filename=file.original_name, content_type=file.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response


urlpatterns = [
    path("ho-so/", my_dossiers, name="my_dossiers"),
    path("nop-ho-so/<str:code>/", start, name="start"),
    path("ho-so/<uuid:public_id>/", detail, name="detail"),
    path("ho-so/<uuid:public_id>/nguoi-nop/", applicant, name="applicant"),
    path("ho-so/<uuid:public_id>/to-khai/<int:index>/", section, name="section"),
    path("ho-so/<uuid:public_id>/giay-to/", documents, name="documents"),
    path("ho-so/<uuid:public_id>/giay-to/tai-len/", upload, name="upload"),
    path("ho-so/<uuid:public_id>/giay-to/dung-lai/", reuse, name="reuse"),
    path("ho-so/<uuid:public_id>/giay-to/<uuid:file_id>/xoa/", remove_file, name="remove_file"),
    path("ho-so/<uuid:public_id>/nhan-ket-qua/", delivery, name="delivery"),
    path("ho-so/<uuid:public_id>/kiem-tra/", review, name="review"),
    path("ho-so/<uuid:public_id>/nop/", submit, name="submit"),
    path("ho-so/<uuid:public_id>/da-nop/", submitted, name="submitted"),
    path("ho-so/<uuid:public_id>/rut/", withdraw, name="withdraw"),
    path("ho-so/<uuid:public_id>/de-nghi-dung/", request_stop, name="request_stop"),
    path("ho-so/<uuid:public_id>/bo-sung/", supplement, name="supplement"),
    path("ho-so/<uuid:public_id>/danh-gia/", rate, name="rate"),
    path("tep/<uuid:public_id>/", download, name="file"),
]
