"""The fee engine: what an applicant pays for a procedure version, a channel and a set of answers.

Fee items come from the procedure version's snapshot (so they are versioned with the procedure);
discount policies and exemptions are read live, because administrators set them for a period. A
dossier freezes the quote at submission (dossiers.services), so a later change never touches it.

Amounts are VND integers. Percentages are rounded half up to the đồng, in the citizen's favour
only as far as that rounding goes: the law sets no other rule.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Q
from django.utils import timezone

from .constants import DiscountCombination, DiscountKind, FeeChannel, FeeUnit, PaymentTiming
from .models import Agency, DiscountPolicy, FeeExemption


@dataclass(frozen=True)
class FeeLine:
    kind: str
    name: str
    unit: str
    unit_amount: int
    quantity: int
    base: int
    discount: int
    exemption: int
    total: int
    legal_basis: str
    discounts: list[dict] = field(default_factory=list)
    refundable: bool = False
    note: str = ""
    exemption_basis: str = ""


@dataclass(frozen=True)
class FeeQuote:
    channel: str
    on: str
    lines: list[FeeLine]
    exemption_group: str = ""
    exemption_proof: str = ""

    @property
    def base(self) -> int:
        return sum(line.base for line in self.lines)

    @property
    def discount(self) -> int:
        return sum(line.discount for line in self.lines)

    @property
    def exemption(self) -> int:
        return sum(line.exemption for line in self.lines)

    @property
    def total(self) -> int:
        return sum(line.total for line in self.lines)

    @property
    def legal_bases(self) -> list[str]:
        """Every legal basis the breakdown rests on, once each, in order."""
        seen: list[str] = []
        for line in self.lines:
            for basis in [line.legal_basis, *(d["legal_basis"] for d in line.discounts), line.exemption_basis]:
                if basis and basis not in seen:
                    seen.append(basis)
        return seen

    def as_dict(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "on": self.on,
            "exemption_group": self.exemption_group,
            "exemption_proof": self.exemption_proof,
            "lines": [asdict(line) for line in self.lines],
            "base": self.base,
            "discount": self.discount,
            "exemption": self.exemption,
            "total": self.total,
            "legal_bases": self.legal_bases,
        }


def _date(value: Any) -> dt.date | None:
    if not value:
        return None
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _int(value: Any) -> int | None:
    if value in (None, ""):
        return None
    return int(value)


def _in_force(item: dict, on: dt.date, start: str, end: str) -> bool:
    begins, ends = _date(item.get(start)), _date(item.get(end))
    return (begins is None or begins <= on) and (ends is None or on <= ends)


def _applies(item: dict, answers: dict) -> bool:
    condition = item.get("condition_field")
    if not condition:
        return True
    return str(answers.get(condition, "")).strip() == str(item.get("condition_value", "")).strip()


def _quantity(item: dict, answers: dict) -> int:
    """Units charged by this line: the answer's count within the line's range (1 for a dossier)."""
    if item.get("unit", FeeUnit.DOSSIER) == FeeUnit.DOSSIER or not item.get("quantity_field"):
        return 1
    try:
        count = int(Decimal(str(answers.get(item["quantity_field"]) or 0)))
    except (ArithmeticError, ValueError):
        count = 0
    start = int(item.get("quantity_from") or 1)
    end = _int(item.get("quantity_to"))
    if end is not None:
        count = min(count, end)
    return max(count - start + 1, 0)


def _percent(amount: int, percent: int | Decimal) -> int:
    return int((Decimal(amount) * Decimal(percent) / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _reduction(policy: DiscountPolicy, remaining: int) -> int:
    if policy.kind == DiscountKind.PERCENT:
        return min(_percent(remaining, policy.value), remaining)
    return min(int(policy.value), remaining)


def applicable_policies(*, procedure, agency: Agency | None, channel: str, on: dt.date) -> list[DiscountPolicy]:
    """Active policies in force on `on` for this procedure, its field, the agency (or one above it)."""
    agency_ids = [int(part) for part in agency.path.strip("/").split("/") if part] if agency and agency.path else []
    policies = DiscountPolicy.objects.filter(is_active=True, valid_from__lte=on).filter(
        Q(valid_to__isnull=True) | Q(valid_to__gte=on),
        Q(channel="") | Q(channel=channel),
        Q(procedure__isnull=True) | Q(procedure_id=getattr(procedure, "pk", None)),
        Q(field__isnull=True) | Q(field_id=getattr(procedure, "field_id", None)),
        Q(agency__isnull=True) | Q(agency_id__in=agency_ids),
    )
    return list(policies.order_by("order", "id"))


def exemption_for(*, procedure, group: str, on: dt.date) -> FeeExemption | None:
    """The exemption of `group` for this procedure (or its field, or any procedure), most specific first."""
    if not group:
        return None
    candidates = FeeExemption.objects.filter(is_active=True, group=group).filter(
        Q(valid_from__isnull=True) | Q(valid_from__lte=on),
        Q(valid_to__isnull=True) | Q(valid_to__gte=on),
        Q(procedure__isnull=True) | Q(procedure_id=getattr(procedure, "pk", None)),
        Q(field__isnull=True) | Q(field_id=getattr(procedure, "field_id", None)),
    )
    ranked = sorted(candidates, key=lambda e: (e.procedure_id is None, e.field_id is None, e.pk))
    return ranked[0] if ranked else None


def exemptions_offered(*, procedure, on: dt.date | None = None) -> list[FeeExemption]:
    """The exemptions an applicant of this procedure may claim, one per group."""
    on = on or timezone.localdate()
    by_group: dict[str, FeeExemption] = {}
    for exemption in FeeExemption.objects.filter(is_active=True).filter(
        Q(valid_from__isnull=True) | Q(valid_from__lte=on),
        Q(valid_to__isnull=True) | Q(valid_to__gte=on),
        Q(procedure__isnull=True) | Q(procedure_id=getattr(procedure, "pk", None)),
        Q(field__isnull=True) | Q(field_id=getattr(procedure, "field_id", None)),
    ):
        chosen = exemption_for(procedure=procedure, group=exemption.group, on=on)
        if chosen is not None:
            by_group[chosen.group] = chosen
    return list(by_group.values())


def fee_quote(
    *,
    snapshot: dict,
    procedure,
    agency: Agency | None,
    channel: str,
    answers: dict | None = None,
    on: dt.date | None = None,
    exemption_group: str = "",
) -> FeeQuote:
    """The breakdown (base, discount, exemption, total, legal basis) of every fee line that applies.

    Best-for-citizen policies compete (the largest reduction wins); stacked ones then apply in their
    order, each on what remains; an exemption applies last, on what remains after the discounts.
    """
    answers = answers or {}
    on = on or timezone.localdate()
    if channel not in FeeChannel.values:
        channel = FeeChannel.COUNTER
    policies = applicable_policies(procedure=procedure, agency=agency, channel=channel, on=on)
    exemption = exemption_for(procedure=procedure, group=exemption_group, on=on)
    lines: list[FeeLine] = []
    for item in snapshot.get("fees", []):
        if not _applies(item, answers) or not _in_force(item, on, "effective_from", "effective_to"):
            continue
        by_channel = _int(item.get(f"amount_{channel}"))
        unit_amount = by_channel if by_channel is not None else int(item.get("amount") or 0)
        quantity = _quantity(item, answers)
        if quantity == 0:
            continue
        base = unit_amount * quantity
        cap = _int(item.get("max_amount"))
        if cap is not None:
            base = min(base, cap)
        own = [
            p
            for p in policies
            if (not p.fee_kind or p.fee_kind == item.get("kind"))
            and not (p.skip_channel_rates and by_channel is not None)
        ]
        remaining = base
        applied: list[dict] = []
        best = [p for p in own if p.combination == DiscountCombination.BEST]
        if best:
            winner = max(best, key=lambda p: (_reduction(p, remaining), -p.order, -p.pk))
            cut = _reduction(winner, remaining)
            if cut:
                applied.append({"name": winner.name, "amount": cut, "legal_basis": winner.legal_basis})
                remaining -= cut
        for policy in (p for p in own if p.combination == DiscountCombination.STACKED):
            cut = _reduction(policy, remaining)
            if cut:
                applied.append({"name": policy.name, "amount": cut, "legal_basis": policy.legal_basis})
                remaining -= cut
        exempted = min(_percent(remaining, exemption.percent), remaining) if exemption else 0
        lines.append(
            FeeLine(
                kind=item.get("kind", ""),
                name=item.get("name", ""),
                unit=item.get("unit", FeeUnit.DOSSIER),
                unit_amount=unit_amount,
                quantity=quantity,
                base=base,
                discount=base - remaining,
                exemption=exempted,
                total=remaining - exempted,
                legal_basis=item.get("legal_basis", "") or "",
                discounts=applied,
                refundable=bool(item.get("refundable", False)),
                note=item.get("note", "") or "",
                exemption_basis=exemption.legal_basis if exempted else "",
            )
        )
    return FeeQuote(
        channel=channel,
        on=on.isoformat(),
        lines=lines,
        exemption_group=exemption.group if exemption else "",
        exemption_proof=exemption.proof_required if exemption else "",
    )


def payment_timing(snapshot: dict) -> str:
    """When this version's fee is paid; "" when the procedure sets no moment (pay any time)."""
    timing = snapshot.get("payment_timing") or ""
    if not timing and snapshot.get("fee_before_processing"):
        timing = PaymentTiming.BEFORE_PROCESSING
    return timing
