"""The official forms of Circular 03/2025/TT-VPCP rendered to PDF with WeasyPrint.

Forms 01–06 are A5, the register (07) is A4 landscape (Circular 01/2018 Art 9(2), kept by
Circular 03/2025). Each per-dossier form carries a QR code of the public tracking page of its
dossier; a dossier refused or sent back at reception has no code yet, hence no QR code.
"""

from __future__ import annotations

import base64
import datetime as dt
import threading
from pathlib import Path

import segno
from django.conf import settings
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from procedures.calendar import classify
from procedures.constants import AgencyKind, ApplicantType, StepRole

from .constants import Action, Channel, FormNumber


def tracking_url(code: str) -> str:
    return settings.PORTAL_BASE_URL.rstrip("/") + reverse("dossiers:track_code", args=[code])


def qr_data_uri(url: str) -> str:
    svg = segno.make(url, error="m").svg_inline(scale=3, border=1)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def _static_roots() -> list[Path]:
    roots = [Path(d) for d in settings.STATICFILES_DIRS]
    if settings.STATIC_ROOT:
        roots.append(Path(settings.STATIC_ROOT))
    return [root.resolve() for root in roots]


def static_only_url_fetcher():
    """WeasyPrint's URL fetcher limited to `data:` URIs and the project's own static files.

    Official forms are built from data the applicant typed: if a value ever slipped into markup, a
    `file://` or `http://` URL would let it read the server's files or reach the internal network
    (SSRF). Nothing a form needs lives anywhere else (fonts come from fontconfig, QR codes are data
    URIs). Anything else is refused; WeasyPrint then leaves the resource out.
    """
    from urllib.parse import unquote, urlsplit

    from weasyprint.urls import URLFetcher

    class StaticOnlyURLFetcher(URLFetcher):
        def __init__(self):
            super().__init__(allowed_protocols=("data", "file"), allow_redirects=False, timeout=5)

        def fetch(self, url, headers=None):
            parts = urlsplit(url)
            if parts.scheme == "file":
                if parts.netloc not in ("", "localhost"):
                    raise ValueError(f"refused: {url}")
                path = Path(unquote(parts.path)).resolve()
                if not any(path.is_relative_to(root) for root in _static_roots()):
                    raise ValueError(f"refused (not a static file of the portal): {url}")
            elif parts.scheme != "data":
                raise ValueError(f"refused: {url}")
            return super().fetch(url, headers)

    return StaticOnlyURLFetcher()


_thread_state = threading.local()


def _font_config():
    """One WeasyPrint FontConfiguration per thread, kept for the process's life.

    Building it (a Pango font map over fontconfig) is ~15% of a Form 01's CPU time when done for
    every document, and the forms declare no @font-face, so a kept one resolves the same system
    fonts: the PDFs are byte-for-byte the same size and render to identical pixels (measured in
    bench/RESULTS.md). Per thread, because a Pango font map is not safe to share between threads.
    """
    config = getattr(_thread_state, "font_config", None)
    if config is None:
        from weasyprint.text.fonts import FontConfiguration

        config = _thread_state.font_config = FontConfiguration()
    return config


def _html_to_pdf(html: str) -> bytes:
    from weasyprint import HTML

    base = Path(settings.STATICFILES_DIRS[0]).resolve().as_uri() + "/"
    return HTML(string=html, base_url=base, url_fetcher=static_only_url_fetcher()).write_pdf(font_config=_font_config())


def one_stop_unit(agency) -> str:
    """How a form names the unit that receives dossiers: a service centre by its name, else its Bộ phận Một cửa."""
    if agency is None:
        return ""
    if agency.kind == AgencyKind.SERVICE_CENTRE or agency.name.lower().startswith(("bộ phận", "trung tâm")):
        return agency.name
    return f"Bộ phận Một cửa {agency.name}"


def _is_one_stop_body(agency) -> bool:
    return agency.kind == AgencyKind.SERVICE_CENTRE or agency.name.lower().startswith(("bộ phận", "trung tâm"))


def one_stop_header(agency, province: str) -> tuple[str, str]:
    """(managing body, issuing unit) of the left header block of a form the one-stop unit issues.

    The unit's managing body goes above the unit (domain.md §2.2): a commune's one-stop unit is
    "UBND PHƯỜNG HOA LƯ / BỘ PHẬN MỘT CỬA"; a service centre sits under the body that set it up.
    """
    if agency is None:
        return province, ""
    if _is_one_stop_body(agency):
        return (agency.parent.name if agency.parent_id else province), agency.name
    return agency.name, "Bộ phận Một cửa"


_LOCALITY_PREFIXES = (
    "ủy ban nhân dân ",
    "uỷ ban nhân dân ",
    "ubnd ",
    "phường ",
    "xã ",
    "thị trấn ",
    "đặc khu ",
    "thành phố ",
    "tỉnh ",
    "tp. ",
)


def locality(agency, province: str) -> str:
    """The place name of the date line (địa danh): the locality of the issuing unit.

    The nearest commune or province up the tree, by its name without its kind ("UBND phường Hoa Lư"
    → "Hoa Lư"); the portal's province when the tree names none.
    """
    node = agency
    while node is not None:
        if node.kind in (AgencyKind.COMMUNE, AgencyKind.PROVINCE):
            name = node.name.strip()
            changed = True
            while changed:
                changed = False
                for prefix in _LOCALITY_PREFIXES:
                    if name.lower().startswith(prefix):
                        name, changed = name[len(prefix) :].strip(), True
            return name
        node = node.parent
    text = province
    for prefix in ("Thành phố ", "Tỉnh "):
        if text.startswith(prefix):
            return text[len(prefix) :]
    return text


def addressee(dossier) -> str:
    """How the forms address the applicant: Ông or Bà when the gender is known, Tổ chức for an
    organisation, the generic "Ông/Bà" only when nothing is known."""
    kind = (dossier.snapshot or {}).get("applicant_type") or getattr(dossier.procedure, "applicant_type", "")
    if kind == ApplicantType.ORGANISATION:
        return "Tổ chức"
    gender = getattr(dossier.owner, "gender", "") if dossier.owner_id else ""
    return {"male": "Ông", "female": "Bà"}.get(gender, "Ông/Bà")


def _receiver_name(dossier) -> str:
    """The officer who received the dossier: the receive event, else the completed reception step.

    Form 01 is rendered by a worker after the reception committed, so the event is there; the
    step (whose assignee is the receiving officer) names them for a dossier without that event.
    """
    event = dossier.events.filter(action=Action.RECEIVE).order_by("created_at", "id").first()
    if event is not None and event.actor_name:
        return event.actor_name
    step = dossier.steps.filter(role=StepRole.RECEPTION).select_related("assignee").order_by("order", "id").first()
    return step.assignee.get_full_name() if step is not None and step.assignee else ""


def _document_rows(dossier, files) -> list[dict]:
    """The "thành phần hồ sơ" table of Form 01: one row per required document provided, then the others.

    Kind (bản chính / bản sao) comes from the procedure version's snapshot; the quantity is the
    number of files received for the document.
    """
    by_requirement: dict = {}
    for file in files:
        by_requirement.setdefault(file.requirement_id, []).append(file)
    electronic = dossier.channel_in == Channel.ONLINE
    rows = []
    for index, document in enumerate(dossier.snapshot.get("documents", []), start=1):
        provided = by_requirement.pop(index, [])
        if not provided:
            continue
        kinds = []
        if int(document.get("original_count") or 0):
            kinds.append("Bản chính")
        if int(document.get("copy_count") or 0):
            kinds.append("Bản sao")
        if not kinds:
            kinds.append("Bản điện tử" if electronic else "Bản chụp")
        rows.append(
            {
                "name": document.get("name") or provided[0].requirement_name,
                "kind": ", ".join(kinds),
                "count": len(provided),
                "files": [f.original_name for f in provided],
            }
        )
    for files_of_other in by_requirement.values():
        rows.append(
            {
                "name": files_of_other[0].requirement_name or "Giấy tờ khác",
                "kind": "Bản điện tử" if electronic else "Bản chụp",
                "count": len(files_of_other),
                "files": [f.original_name for f in files_of_other],
            }
        )
    return rows


def _register_entry(dossier) -> dict | None:
    """Book and entry number given at reception (dossiers.services._enter_register), as Form 07 prints them."""
    if not dossier.register_number:
        return None
    return {"book": dossier.register_book or 1, "number": dossier.register_number}


def _coordinating_agencies(dossier) -> list[str]:
    """Units other than the resolving and receiving ones that took part: inter-agency steps, consultations."""
    own = {dossier.agency_id, dossier.receiving_agency_id}
    names: list[str] = []
    for step in dossier.steps.select_related("agency").order_by("order", "id"):
        if step.agency_id not in own and step.agency.name not in names:
            names.append(step.agency.name)
    for event in dossier.events.filter(action=Action.CONSULT).order_by("created_at", "id"):
        name = (event.data or {}).get("agency")
        if name and name not in names:
            names.append(name)
    return names


def _handovers(dossier, steps) -> list[dict]:
    """The rows of Form 06: each step as a hand-over from the previous unit, then the result's way back.

    `steps` are the dossier_timeline rows (started steps, in order).
    """
    rows = []
    previous_unit, previous_person = "Người nộp hồ sơ", dossier.applicant_name
    for step in steps:
        rows.append(
            {
                "unit": step.agency,
                "task": step.name,
                "parallel": getattr(step, "is_parallel", False),
                "from_unit": previous_unit,
                "from_person": previous_person,
                "to_person": step.assignee,
                "at": step.started_at,
                "completed_at": step.completed_at,
                "due_at": step.due_at,
                "timing": step.timing,
            }
        )
        if step.is_parallel and rows[-1:] and len(rows) > 1 and rows[-2].get("parallel"):
            # Members of one parallel group all receive from the unit before the group.
            rows[-1]["from_unit"], rows[-1]["from_person"] = rows[-2]["from_unit"], rows[-2]["from_person"]
        previous_unit, previous_person = step.agency, step.assignee
    one_stop = one_stop_unit(dossier.receiving_agency or dossier.agency)
    returned_event = (
        dossier.events.filter(action=Action.RETURN_RESULT).order_by("created_at", "id").first()
        if dossier.returned_at
        else None
    )
    returned_by = returned_event.actor_name if returned_event is not None else ""
    if dossier.completed_at and rows:
        rows.append(
            {
                "unit": one_stop,
                "task": "Nhận kết quả giải quyết để trả cho người nộp",
                "from_unit": previous_unit,
                "from_person": previous_person,
                "to_person": returned_by,
                "at": dossier.completed_at,
                "completed_at": dossier.returned_at,
                "due_at": dossier.original_due_at or dossier.current_due_at,
                "timing": dossier.timing,
            }
        )
    if dossier.returned_at and rows:
        rows.append(
            {
                "unit": one_stop,
                "task": "Trả kết quả cho người nộp hồ sơ",
                "from_unit": one_stop,
                "from_person": returned_by,
                "to_unit": "Người nộp hồ sơ",
                "to_person": dossier.applicant_name,
                "at": dossier.returned_at,
                "completed_at": dossier.returned_at,
                "due_at": dossier.current_due_at,
                "timing": classify(dossier.returned_at, dossier.original_due_at or dossier.current_due_at)
                if dossier.current_due_at
                else "",
            }
        )
    return rows


def form_context(dossier, **extra) -> dict:
    from .selectors import dossier_timeline

    rules = None
    if dossier.rule_set:
        from .rules import rule_set

        rules = rule_set(dossier.rule_set)
    url = tracking_url(dossier.code) if dossier.code else ""
    receiving = dossier.receiving_agency or dossier.agency
    managing_name, issuer_name = one_stop_header(receiving, settings.PORTAL_PROVINCE_NAME)
    files = list(dossier.files.filter(is_current=True, kind__in=["submitted", "supplement"]))
    steps = dossier_timeline(dossier) if dossier.pk else []
    return {
        "dossier": dossier,
        "procedure": dossier.snapshot,
        "agency": receiving,
        "resolving_agency": dossier.agency,
        "managing_agency": receiving.parent,
        "managing_name": managing_name,
        "issuer_name": issuer_name,
        "place": locality(receiving, settings.PORTAL_PROVINCE_NAME),
        "authority_place": locality(dossier.agency, settings.PORTAL_PROVINCE_NAME),
        "addressee": addressee(dossier),
        "appointments": list(dossier.appointments.order_by("issued_at", "id")) if dossier.pk else [],
        "one_stop_unit": one_stop_unit(receiving),
        "rules": rules,
        "today": timezone.localtime(),
        "qr": qr_data_uri(url) if url else "",
        "tracking_url": url,
        "files": files,
        "documents": _document_rows(dossier, files),
        "fees": list(dossier.fees.all()),
        "steps": steps,
        "handovers": _handovers(dossier, steps) if dossier.pk else [],
        "receiver_name": _receiver_name(dossier) if dossier.pk else "",
        "register_entry": _register_entry(dossier),
        "coordinating_agencies": _coordinating_agencies(dossier) if dossier.pk else [],
        "province": settings.PORTAL_PROVINCE_NAME,
        "hotline": settings.PORTAL_HOTLINE,
        **extra,
    }


def render_dossier_form(dossier, number: str, **extra) -> bytes:
    """Forms 01–06 of one dossier, always in Vietnamese (they are official documents)."""
    if number not in FormNumber.values or number == FormNumber.REGISTER:
        raise ValueError(f"not a per-dossier form: {number}")
    with translation.override("vi"):
        html = render_to_string(
            f"dossiers/forms/mau_{number}.html", {"form_number": number, **form_context(dossier, **extra)}
        )
    return _html_to_pdf(html)


def render_register(*, agency, start: dt.date, end: dt.date, dossiers) -> bytes:
    """Form 07: the register of dossiers received by an agency over a period (A4 landscape)."""
    if isinstance(dossiers, QuerySet):
        dossiers = dossiers.select_related("procedure", "agency", "receiving_agency")
    with translation.override("vi"):
        html = render_to_string(
            "dossiers/forms/mau_07.html",
            {
                "form_number": FormNumber.REGISTER.value,
                "agency": agency,
                "managing_agency": agency.parent,
                "managing_name": one_stop_header(agency, settings.PORTAL_PROVINCE_NAME)[0],
                "issuer_name": one_stop_header(agency, settings.PORTAL_PROVINCE_NAME)[1],
                "place": locality(agency, settings.PORTAL_PROVINCE_NAME),
                "register_book": 1,
                "start": start,
                "end": end,
                "dossiers": list(dossiers),
                "today": timezone.localtime(),
                "province": settings.PORTAL_PROVINCE_NAME,
                "hotline": settings.PORTAL_HOTLINE,
            },
        )
    return _html_to_pdf(html)
