"""The officer queue page's content, written in Python: its tabs, its table rows, the block around them.

At 25 rows of 8 cells and 8 tabs, the template's loops were most of the page's template work (about
600 variable lookups and their escaping per page, issue 6). These functions write exactly what the
loops of dossiers/templates/dossiers/officer/queue.html wrote, with the same escaping;
tests/dossiers/test_queue_page_markup.py renders the template as it was beside the page and compares.

Numbers are written as plain digits: the template's `{{ row.id }}` localised them, so the English page
wrote "27,442" into the bulk form's checkbox values and the bulk assignment ignored them.
"""

from __future__ import annotations

from django.middleware.csrf import get_token
from django.urls import reverse
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


def queue_content_html(request, context: dict) -> SafeString:
    """The page's content block, as dossiers/officer/queue.html wrote it from the same context.

    The template's own work (two dozen translations, four URL reversals, the conditions) was about as many
    Python calls as the rest of the page's markup together; the template keeps the page's frame (base.html).
    """
    esc = escape_text
    tab = esc(context["tab"])
    counter = ""
    if context["is_reception"]:
        counter = (
            f'<li><a class="chip" href="{esc(reverse("dossiers:officer_counter_new"))}">'
            f"{esc(_('Tiếp nhận hồ sơ trực tiếp'))}</a></li>"
        )
    search_label = esc(_("Tìm kiếm và lọc hồ sơ"))
    parts = [
        f"\n<h1>{esc(_('Xử lý hồ sơ'))}</h1>",
        '\n<ul class="chip-list">',
        f"\n  {counter}",
        f'\n  <li><a class="chip" href="{esc(reverse("dossiers:officer_register"))}">'
        f"{esc(_('Sổ theo dõi hồ sơ (Mẫu 07)'))}</a></li>",
        "\n</ul>\n",
        f'\n<nav aria-label="{esc(_("Danh mục hồ sơ"))}">',
        '\n  <ul class="chip-list">',
        f"\n    {context['tabs_html']}",
        "\n  </ul>\n</nav>\n",
        f"\n<details{' open' if context['filtering'] else ''}>",
        f"\n  <summary>{search_label}</summary>",
        f'\n  <form method="get" action="{esc(reverse("dossiers:officer_queue"))}" class="filter-form" role="search"'
        f' aria-label="{search_label}" novalidate>',
        f'\n    <input type="hidden" name="tab" value="{tab}">',
        f"\n    {context['form_html']}",
        "\n    <div>",
        f'\n      <button type="submit">{esc(_("Tìm"))}</button>',
        f'\n      <a class="small-button button" href="?tab={tab}">{esc(_("Xóa bộ lọc"))}</a>',
        "\n    </div>\n  </form>\n</details>\n",
        f'\n<h2 id="h-list">{esc(context["tab_label"])}</h2>\n',
    ]
    if context["searching"]:
        parts.append(f'<p class="meta">{esc(_("Đang áp dụng tìm kiếm theo mã hồ sơ, họ tên hoặc số CCCD."))}</p>')
    parts.append("\n\n")
    if context["items"]:
        headings = (
            _("Mã hồ sơ"),
            _("Thủ tục"),
            _("Người nộp"),
            _("Tiếp nhận"),
            _("Hạn xử lý"),
            _("Còn lại"),
            _("Bước hiện tại"),
            _("Cán bộ xử lý"),
        )
        parts += [
            f'\n<form method="post" action="{esc(reverse("dossiers:officer_bulk_assign"))}" aria-labelledby="h-list">',
            f'<input type="hidden" name="csrfmiddlewaretoken" value="{esc(get_token(request))}">',
            f'\n  <input type="hidden" name="back" value="{esc(context["current_query"])}">',
            '\n  <table class="queue-table" aria-labelledby="h-list">',
            "\n    <thead>\n      <tr>",
            *(f'\n        <th scope="col">{esc(heading)}</th>' for heading in headings),
            "\n      </tr>\n    </thead>",
            f"\n    <tbody>\n    {context['rows_html']}\n    </tbody>",
            "\n  </table>\n  ",
        ]
        if context["bulk_form"]:
            parts += [
                '\n  <fieldset class="form-card">',
                f"\n    <legend>{esc(_('Phân công các hồ sơ đã chọn'))}</legend>",
                f"\n    {context['bulk_form_html']}",
                f'\n    <button type="submit">{esc(_("Phân công"))}</button>',
                "\n  </fieldset>\n  ",
            ]
        parts.append("\n</form>\n")
    else:
        parts.append(f"\n<p>{esc(_('Không có hồ sơ nào.'))}</p>\n")
    parts.append("\n\n")
    first, following = context["first_page_query"], context["next_page_query"]
    if first or following:
        parts.append(f'\n<nav class="pagination" aria-label="{esc(_("Phân trang"))}">\n  ')
        if first:
            parts.append(f'<a href="?{esc(first)}">← {esc(_("Trang đầu"))}</a>')
        parts.append("\n  ")
        if following:
            parts.append(f'<a href="?{esc(following)}">{esc(_("Trang sau"))} →</a>')
        parts.append("\n</nav>\n")
    parts.append("\n")
    return SafeString("".join(parts))
