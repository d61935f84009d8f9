"""A form renderer that writes Django's own form markup in Python, for the officers' busiest pages.

Django renders every field group, label, error list, widget and *each option of a select* through
its template engine: one template render per option. On the queue page that was about a third of
the request (filter selects with the agency's procedures, fields and specialists), on the dossier
page a third of the template time (the action forms). `FastFormRenderer` produces the same
markup as Django's templates `django/forms/field.html`, `label.html`, `errors/list/ul.html`,
`widgets/input.html` (every input type), `select.html`, `textarea.html` and `radio.html`, with the
same escaping, and hands every other template (a project override, a custom widget) to Django's
renderer unchanged. tests/dossiers/test_forms_rendering.py compares both renderers on every form of
those pages.

Only the officer forms use it (their `default_renderer`); the site's FORM_RENDERER is unchanged.
"""

from __future__ import annotations

from django.forms.renderers import DjangoTemplates
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

_OPTION = "django/forms/widgets/select_option.html"
_RADIO_OPTION = "django/forms/widgets/radio_option.html"


def _value(value) -> str:
    """`{{ value|stringformat:'s' }}`: str() of the value, escaped unless it was already safe."""
    return conditional_escape(value if hasattr(value, "__html__") else str(value))


def _attrs(attrs: dict) -> str:
    """django/forms/widgets/attrs.html (and django/forms/attrs.html, its twin for labels)."""
    out = []
    for name, value in (attrs or {}).items():
        if value is False:
            continue
        name = conditional_escape(name)
        out.append(f" {name}" if value is True else f' {name}="{_value(value)}"')
    return "".join(out)


def _attr(name: str, value) -> str:
    """One attribute written only when the value is set (`{% if x %} name="{{ x }}"{% endif %}`)."""
    return f' {name}="{_value(value)}"' if value else ""


def _input(widget: dict) -> str:
    value = "" if widget["value"] is None else f' value="{_value(widget["value"])}"'
    return (
        f'<input type="{conditional_escape(widget["type"])}" name="{conditional_escape(widget["name"])}"'
        f"{value}{_attrs(widget['attrs'])}>"
    )


def _select(widget: dict) -> str | None:
    parts = [f'<select name="{conditional_escape(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, options, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{conditional_escape(group_name)}">')
        for option in options:
            if option["template_name"] != _OPTION:
                return None
            parts.append(
                f'\n  <option value="{_value(option["value"])}"{_attrs(option["attrs"])}>'
                f"{conditional_escape(option['label'])}</option>"
            )
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    note = widget.get("truncated_note")
    if note:  # dossiers.filters.BoundedSelect: the list was cut at its limit
        note_id, text = conditional_escape(note["id"]), conditional_escape(note["text"])
        parts.append(f'\n<p class="helptext" id="{note_id}">{text}</p>')
    return "".join(parts)


def _radio(widget: dict) -> str | None:
    """django/forms/widgets/multiple_input.html with radio_option.html (input_option.html)."""
    id_, css = widget["attrs"].get("id"), widget["attrs"].get("class")
    parts = [f"<div{_attr('id', id_)}{_attr('class', css)}>"]
    for group_name, options, _index in widget["optgroups"]:
        if group_name:
            parts.append(f"\n  <div><label>{conditional_escape(group_name)}</label>")
        for option in options:
            if option["template_name"] != _RADIO_OPTION:
                return None
            parts.append("<div>\n    ")
            if option["wrap_label"]:
                option_id = option["attrs"].get("id")
                parts.append(f"<label{_attr('for', option_id)}>")
            parts.append(_input(option))
            if option["wrap_label"]:
                parts.append(f" {conditional_escape(option['label'])}</label>")
            parts.append("</div>")
        if group_name:
            parts.append("\n  </div>")
    parts.append("\n</div>")
    return "".join(parts)


def _textarea(widget: dict) -> str:
    value = conditional_escape(widget["value"]) if widget["value"] else ""
    return f'<textarea name="{conditional_escape(widget["name"])}"{_attrs(widget["attrs"])}>\n{value}</textarea>'


def _label(context: dict) -> str:
    label = conditional_escape(context["label"])
    if not context["use_tag"]:
        return label
    tag = conditional_escape(context["tag"])
    return f"<{tag}{_attrs(context['attrs'])}>{label}</{tag}>"


def _errors(context: dict) -> str:
    errors = context["errors"]
    if not errors:
        return ""
    field_id = getattr(errors, "field_id", None)
    id_attr = f' id="{conditional_escape(field_id)}_error"' if field_id else ""
    items = "".join(f"<li>{conditional_escape(error)}</li>" for error in errors)
    return f'<ul class="{conditional_escape(context["error_class"])}"{id_attr}>{items}</ul>'


def _field(context: dict) -> str:
    field = context["field"]
    parts = []
    if field.use_fieldset:
        described = field.aria_describedby
        parts.append(f"<fieldset{_attr('aria-describedby', described)}>")
        if field.label:
            parts.append(str(field.legend_tag()))
    elif field.label:
        parts.append(str(field.label_tag()))
    if field.help_text:
        id_attr = f' id="{conditional_escape(field.auto_id)}_helptext"' if field.auto_id else ""
        parts.append(f'<div class="helptext"{id_attr}>{field.help_text}</div>')  # `|safe` in Django's template
    parts.append(str(field.errors))
    parts.append(str(field) + ("</fieldset>" if field.use_fieldset else ""))
    return "\n".join(parts)


def _widget(render):
    return lambda context: render(context["widget"])


_INPUTS = ("text", "date", "number", "hidden", "email", "file", "tel", "url", "password", "search", "time")
_INPUTS += ("datetime", "color", "checkbox", "input")
FAST = {
    "django/forms/field.html": _field,
    "django/forms/label.html": _label,
    "django/forms/errors/list/default.html": _errors,
    "django/forms/errors/list/ul.html": _errors,
    "django/forms/widgets/select.html": _widget(_select),
    "dossiers/widgets/bounded_select.html": _widget(_select),
    "django/forms/widgets/radio.html": _widget(_radio),
    "django/forms/widgets/textarea.html": _widget(_textarea),
    **{f"django/forms/widgets/{name}.html": _widget(_input) for name in _INPUTS},
}


class FastFormRenderer(DjangoTemplates):
    """Django's form markup written in Python for the templates in FAST; Django's templates for the rest."""

    def render(self, template_name, context, request=None):
        fast = FAST.get(template_name)
        if fast is not None:
            html = fast(context)
            if html is not None:
                return html.strip()
        return super().render(template_name, context, request=request)


def truncated_note(*, limit: int) -> str:
    return _("Danh sách chỉ hiện %(limit)s mục đầu tiên; tìm theo mã hồ sơ, họ tên hoặc số CCCD để thu hẹp.") % {
        "limit": limit
    }


def form_fields_html(form, *, row_class: str = "") -> SafeString:
    """Every field group of a form, each in a <div>, in one call: what a template's
    `{% for field in form %}<div class="...">{{ field.as_field_group }}</div>{% endfor %}` writes.

    The officer queue writes its filter and bulk forms through it, without a template loop per field.
    """
    opening = f'<div class="{conditional_escape(row_class)}">' if row_class else "<div>"
    return SafeString("".join(f"{opening}{field.as_field_group()}</div>" for field in form))
