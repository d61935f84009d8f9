"""Demo catalogue honesty (issue 7, point 17): every procedure and fee says where it comes from.

A procedure is verified only with its source cited; every other one is marked as an example, on its
page and in README.md's table, which must say exactly what the catalogue says.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

import procedures

ROOT = Path(procedures.__file__).resolve().parent.parent
CATALOGUE = json.loads((ROOT / "procedures" / "demo" / "catalogue.json").read_text(encoding="utf-8"))["procedures"]
EXAMPLE_FEE = "Mức thu minh họa"
# What a verified source must cite: a legal document (with its article) or the page it was read on.
CITATION = re.compile(r"(Luật|Nghị định|Thông tư|Quyết định)[^.;]*\d|https?://")


def fee_verified(fee: dict) -> bool:
    return not fee["source"].startswith(EXAMPLE_FEE)


def readme_rows() -> dict[str, tuple[str, str, str]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    table = text.split("<!-- demo-catalogue:start -->")[1].split("<!-- demo-catalogue:end -->")[0]
    rows = {}
    for line in table.strip().splitlines()[2:]:
        code, name, status, fees = (cell.strip() for cell in line.strip().strip("|").split("|"))
        rows[code] = (name, status, fees)
    return rows


def expected_fee_cell(procedure: dict) -> str:
    fees = procedure["fees"]
    verified = sum(fee_verified(fee) for fee in fees)
    if not fees:
        return "no fee"
    if verified == len(fees):
        return "verified"
    return "example" if verified == 0 else f"{verified} of {len(fees)} verified"


@pytest.mark.parametrize("procedure", CATALOGUE, ids=lambda p: p["national_code"])
def test_every_demo_procedure_and_fee_has_a_source_or_an_explicit_example_mark(procedure):
    assert procedure["source"].strip(), procedure["national_code"]
    assert isinstance(procedure.get("is_example", False), bool)
    if not procedure.get("is_example", False):
        # Verified: its code, time limit and fee are each backed by a citation.
        assert CITATION.search(procedure["source"]) or "domain.md" in procedure["source"], procedure["source"]
        assert all(fee_verified(fee) for fee in procedure["fees"]), procedure["national_code"]
    for fee in procedure["fees"]:
        assert fee["source"].strip(), (procedure["national_code"], fee["name"])
        if fee_verified(fee):
            assert CITATION.search(fee["source"]), fee["source"]
            assert fee["legal_basis"].strip(), fee["name"]


def test_the_fees_verified_against_the_law_carry_the_amounts_of_the_law():
    by_code = {p["national_code"]: p for p in CATALOGUE}
    # Thông tư 75/2022/TT-BTC: residence registration, at the counter / online.
    for code, counter, online in (
        ("1.004222", 20_000, 10_000),
        ("1.004194", 15_000, 7_000),
        ("1.002755", 15_000, 7_000),
    ):
        (fee,) = by_code[code]["fees"]
        assert (fee["amount"], fee["amount_online"]) == (counter, online), code
        assert fee_verified(fee) and "75/2022/TT-BTC" in fee["source"]
    # Thông tư 226/2016/TT-BTC Art 4: copies 2,000 a page, from the third 1,000, at most 200,000; signatures 10,000.
    first, rest = by_code["2.000815"]["fees"]
    assert (first["amount"], first["quantity_to"], rest["amount"], rest["quantity_from"]) == (2_000, 2, 1_000, 3)
    assert 2 * first["amount"] + rest["max_amount"] == 200_000
    (signature,) = by_code["2.000884"]["fees"]
    assert signature["amount"] == 10_000
    assert all(fee_verified(f) and "226/2016/TT-BTC, Điều 4" in f["source"] for f in (first, rest, signature))
    # Luật Hộ tịch 2014 Art 11(1)(b): birth and death on time, guardianship and marriage are free.
    for code in ("1.001193", "1.000656", "1.004837", "1.000894"):
        (fee,) = by_code[code]["fees"]
        assert fee["amount"] == 0 and fee_verified(fee) and "Điều 11" in fee["source"], code


def test_the_readme_table_lists_exactly_the_catalogue_and_its_verification():
    rows = readme_rows()
    assert set(rows) == {p["national_code"] for p in CATALOGUE}
    for procedure in CATALOGUE:
        name, status, fees = rows[procedure["national_code"]]
        assert name == procedure["name"]
        assert status == ("example" if procedure.get("is_example") else "verified"), procedure["national_code"]
        assert fees == expected_fee_cell(procedure), procedure["national_code"]


@pytest.mark.django_db
def test_the_public_page_marks_examples_and_shows_every_source(client, settings):
    settings.DEBUG = True  # load_demo refuses to create its accounts otherwise
    call_command("load_demo", quiet=True)
    settings.DEBUG = False
    example = client.get(reverse("procedures:detail", args=["1.004222"])).content.decode()
    assert "Dữ liệu minh họa." in example
    assert "Thông tư 75/2022/TT-BTC (hiệu lực từ 05/02/2023)" in example  # the verified fee's source
    verified = client.get(reverse("procedures:detail", args=["1.001193"])).content.decode()
    assert "Dữ liệu minh họa." not in verified
    assert "Luật Hộ tịch 2014, Điều 11 khoản 1 điểm b" in verified


@pytest.mark.django_db
def test_the_demo_online_discount_does_not_halve_a_legal_online_rate_again(settings):
    """The demo's 50% online policy applies to lệ phí without a rate of their own for the channel."""
    import datetime as dt

    from procedures.fees import fee_quote
    from procedures.models import Procedure

    settings.DEBUG = True  # load_demo refuses to create its accounts otherwise
    call_command("load_demo", quiet=True)
    settings.DEBUG = False

    def online_total(code: str) -> int:
        procedure = Procedure.objects.get(national_code=code)
        version = procedure.versions.order_by("-number").first()
        agency = procedure.agencies.first()
        return fee_quote(
            snapshot=version.snapshot, procedure=procedure, agency=agency, channel="online", on=dt.date(2026, 6, 1)
        ).total

    assert online_total("1.004194") == 7_000  # Circular 75/2022's online rate, not 3,500
    assert online_total("1.001612") == 50_000  # 100,000 with no online rate of its own: halved
