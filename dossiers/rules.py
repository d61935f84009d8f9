"""Rule sets: what the law in force says about codes, forms and deadlines, by effective date.

Rules change by decree and circular; each dossier stores the key of the rule set in force when it
was received, so that its code, its forms and its deadline stay those of that day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class RuleSet:
    key: str
    effective_from: dt.date
    legal_basis: str
    forms_circular: str
    # How the daily sequence is written and how long it is at least.
    # Whether the centralised-system format of Circular 04/2025 exists under this rule set.
    centralised_format: bool = False
    sequence_digits: int = 4
    # Working days after reception within which the resolving agency may return the dossier for a
    # supplement after appraisal, once and listing everything missing (Decree 61/2018 Art 19(4):
    # "trong thời hạn 03 ngày làm việc kể từ ngày tiếp nhận", unless sector law sets another: a
    # procedure's `supplement_window_days` overrides it).
    supplement_notice_days: int = 3
    # How many returns for supplement after appraisal a dossier may have: one ("một lần").
    supplement_rounds_after_appraisal: int = 1
    # The form issued with the new appointment when the clock restarts after that supplement.
    restart_notice_form: str = "01"
    # An apology (Form 04) is due no later than this many working days before the due date.
    apology_lead_days: int = 1

    def format_code(
        self,
        *,
        agency_identifier: str,
        day: dt.date,
        sequence: int,
        system_code: str = "",
        centralised_identifier: str = "",
    ) -> str:
        """The dossier code for the `sequence`-th dossier of `day` received by this agency.

        Each format takes the identifier of its own scheme as stored: the QCVN 102 one
        (`agency_identifier`) for Circular 01/2018, the QĐ 20/2020 one (`centralised_identifier`) for
        Circular 04/2025. Neither is derived from the other (the schemes are assigned separately).
        """
        number = f"{sequence:0{self.sequence_digits}d}"  # longer when needed, never truncated
        if system_code and self.centralised_format:
            # Circular 03/2025 Art 13(3), added by Circular 04/2025: MX1X2.Y1Y2Y3.Z1Z2-YYMMDD-AAXXXX,
            # the agency's QĐ 20/2020 identifier, AA taken from the owner of the centralised system.
            if not centralised_identifier:
                raise ValueError("no QĐ 20/2020 identifier for the centralised format")
            return f"{centralised_identifier}-{day:%y%m%d}-{system_code[:2]:0>2}{number}"
        # Circular 01/2018 Art 19: V1V2V3.Z1Z2.Y1Y2.MX1X2-YYMMDD-XXXX, the QCVN 102 identifier.
        return f"{agency_identifier}-{day:%y%m%d}-{number}"


RULE_SETS = [
    RuleSet(
        key="nd61-2018",
        effective_from=dt.date(2018, 6, 21),
        legal_basis="Nghị định 61/2018/NĐ-CP; Thông tư 01/2018/TT-VPCP",
        forms_circular="01/2018/TT-VPCP",
    ),
    RuleSet(
        key="nd118-2025",
        effective_from=dt.date(2025, 7, 1),
        legal_basis="Nghị định 118/2025/NĐ-CP; Thông tư 03/2025/TT-VPCP",
        forms_circular="03/2025/TT-VPCP",
    ),
    RuleSet(
        key="nd118-2025-tt04",
        effective_from=dt.date(2026, 1, 25),
        legal_basis="Nghị định 118/2025/NĐ-CP; Thông tư 03/2025/TT-VPCP sửa đổi bởi Thông tư 04/2025/TT-VPCP",
        forms_circular="03/2025/TT-VPCP",
        centralised_format=True,
    ),
]
_BY_KEY = {rule.key: rule for rule in RULE_SETS}


def rule_set_on(day: dt.date) -> RuleSet:
    """The rule set in force on `day`."""
    applicable = [rule for rule in RULE_SETS if rule.effective_from <= day]
    if not applicable:
        raise ValueError(f"no rule set in force on {day}")
    return max(applicable, key=lambda rule: rule.effective_from)


def rule_set(key: str) -> RuleSet:
    return _BY_KEY[key]


def supplement_window_days(rules: RuleSet, snapshot: dict) -> int:
    """Working days after reception for a return-for-supplement after appraisal: the procedure's
    own time limit (set by sector law) where its version has one, else the rule set's."""
    override = snapshot.get("supplement_window_days")
    return int(override) if override else rules.supplement_notice_days
