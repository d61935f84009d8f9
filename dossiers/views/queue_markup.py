"""The officer queue page's repeated markup, written in Python: its tabs and its table rows.

At 25 rows of 8 cells and 8 tabs, the template's loops were most of the page's template work (about
600 variable lookups and their escaping per page, issue 6). These functions write exactly what the
loops of dossiers/templates/dossiers/officer/queue.html wrote, with the same escaping;
tests/dossiers/test_queue_page_markup.py renders the template as it was beside the page and compares.

Numbers are written as plain digits: the template's `{{ row.id }}` localised them, so the English page
wrote "27,442" into the bulk form's checkbox values and the bulk assignment ignored them.
"""

from __future__ import annotations

from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from ..forms_rendering import escape_text


def queue_tabs_html(tabs: list[dict], current: str) -> SafeString:
    """The tab chips: each a link with its bounded count, the current one marked for assistive technology."""
    parts = []
    for item in tabs:
        text = f"{escape_text(item['label'])} ({escape_text(item['count_label'])})"
        href = f"?{escape_text(item['query'])}"
        if item["key"] == current:
            link = f'<a class="chip" href="{href}" aria-current="page"><strong>{text}</strong></a>'
        else:
            link = f'<a class="chip" href="{href}">{text}</a>'
        parts.append(f"\n      <li>{link}</li>\n    ")
    return SafeString("".join(parts))


def queue_rows_html(items: list[dict]) -> SafeString:
    """The table's rows from officer._queue_rows' cells (every cell text already as shown)."""
    esc = escape_text
    # One translation per page for the cell labels the narrow layout shows (data-label).
    procedure, applicant, received = esc(_("Thủ tục")), esc(_("Người nộp")), esc(_("Tiếp nhận"))
    due, left, step, assignee = esc(_("Hạn xử lý")), esc(_("Còn lại")), esc(_("Bước hiện tại")), esc(_("Cán bộ xử lý"))
    badges = {
        "overdue": f'<strong class="badge error">{esc(_("Quá hạn"))}</strong>',
        "due_soon": f'<strong class="badge">{esc(_("Sắp đến hạn"))}</strong>',
    }
    parts = []
    for row in items:
        if row["selectable"]:
            pk = int(row["id"])
            select = (
                f'\n            <input type="hidden" name="version-{pk}" value="{int(row["version"])}">'
                f'\n            <label class="meta"><input type="checkbox" name="dossiers" value="{pk}">'
                f" {esc(row['select_label'])}</label>\n          "
            )
        else:
            select = ""
        parts.append(
            "\n      <tr>"
            '\n        <td class="queue-code">'
            f'\n          <a href="{esc(row["url"])}">{esc(row["code"])}</a>'
            f'\n          <br><span class="meta">{esc(row["state_label"])}</span>'
            f"\n          {select}"
            "\n        </td>"
            f'\n        <td data-label="{procedure}">{esc(row["procedure"])}</td>'
            f'\n        <td data-label="{applicant}">{esc(row["applicant"])}</td>'
            f'\n        <td data-label="{received}">{esc(row["received"])}</td>'
            f'\n        <td data-label="{due}">{esc(row["due"])}</td>'
            f'\n        <td data-label="{left}">{esc(row["time_left"])}'
            f"\n          {badges.get(row['badge'], '')}</td>"
            f'\n        <td data-label="{step}">{esc(row["step"])}</td>'
            f'\n        <td data-label="{assignee}">{esc(row["assignee"])}</td>'
            "\n      </tr>\n    "
        )
    return SafeString("".join(parts))
