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

from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext as _django_gettext

_OPTION = "django/forms/widgets/select_option.html"
# html.escape's five replacements (Django's escape), in one pass.
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;"})


def escape_text(value) -> str:
    """conditional_escape(value) as a str: a plain str is escaped in one call of str.translate (the page
    writes a few hundred of them); a safe string is kept, anything else (lazy text, numbers) goes through
    Django's conditional_escape."""
    if type(value) is str:
        return value.translate(_ESCAPES)
    return str(conditional_escape(value))


_RADIO_OPTION = "django/forms/widgets/radio_option.html"


def _value(value) -> str:
    """`{{ value|stringformat:'s' }}`: str() of the value, escaped unless it was already safe."""
    return escape_text(value)


def _attrs(attrs: dict) -> str:
    """django/forms/widgets/attrs.html (and django/forms/attrs.html, its twin for labels)."""
    out = []
    for name, value in (attrs or {}).items():
        if value is False:
            continue
        name = escape_text(name)
        out.append(f" {name}" if value is True else f' {name}="{_value(value)}"')
    return "".join(out)


def _attr(name: str, value) -> str:
    """One attribute written only when the value is set (`{% if x %} name="{{ x }}"{% endif %}`)."""
    return f' {name}="{_value(value)}"' if value else ""


def _input(widget: dict) -> str:
    value = "" if widget["value"] is None else f' value="{_value(widget["value"])}"'
    return (
        f'<input type="{escape_text(widget["type"])}" name="{escape_text(widget["name"])}"'
        f"{value}{_attrs(widget['attrs'])}>"
    )


def _select(widget: dict) -> str | None:
    parts = [f'<select name="{escape_text(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, options, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{escape_text(group_name)}">')
        for option in options:
            if option["template_name"] != _OPTION:
                return None
            parts.append(
                f'\n  <option value="{_value(option["value"])}"{_attrs(option["attrs"])}>'
                f"{escape_text(option['label'])}</option>"
            )
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    note = widget.get("truncated_note")
    if note:  # dossiers.filters.BoundedSelect: the list was cut at its limit
        note_id, text = escape_text(note["id"]), escape_text(note["text"])
        parts.append(f'\n<p class="helptext" id="{note_id}">{text}</p>')
    return "".join(parts)


def _radio(widget: dict) -> str | None:
    """django/forms/widgets/multiple_input.html with radio_option.html (input_option.html)."""
    id_, css = widget["attrs"].get("id"), widget["attrs"].get("class")
    parts = [f"<div{_attr('id', id_)}{_attr('class', css)}>"]
    for group_name, options, _index in widget["optgroups"]:
        if group_name:
            parts.append(f"\n  <div><label>{escape_text(group_name)}</label>")
        for option in options:
            if option["template_name"] != _RADIO_OPTION:
                return None
            parts.append("<div>\n    ")
            if option["wrap_label"]:
                option_id = option["attrs"].get("id")
                parts.append(f"<label{_attr('for', option_id)}>")
            parts.append(_input(option))
            if option["wrap_label"]:
                parts.append(f" {escape_text(option['label'])}</label>")
            parts.append("</div>")
        if group_name:
            parts.append("\n  </div>")
    parts.append("\n</div>")
    return "".join(parts)


def _textarea(widget: dict) -> str:
    value = escape_text(widget["value"]) if widget["value"] else ""
    return f'<textarea name="{escape_text(widget["name"])}"{_attrs(widget["attrs"])}>\n{value}</textarea>'


def _label(context: dict) -> str:
    label = escape_text(context["label"])
    if not context["use_tag"]:
        return label
    tag = escape_text(context["tag"])
    return f"<{tag}{_attrs(context['attrs'])}>{label}</{tag}>"


def _errors(context: dict) -> str:
    errors = context["errors"]
    if not errors:
        return ""
    field_id = getattr(errors, "field_id", None)
    id_attr = f' id="{escape_text(field_id)}_error"' if field_id else ""
    items = "".join(f"<li>{escape_text(error)}</li>" for error in errors)
    return f'<ul class="{escape_text(context["error_class"])}"{id_attr}>{items}</ul>'


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
        id_attr = f' id="{escape_text(field.auto_id)}_helptext"' if field.auto_id else ""
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


def _label_punctuation() -> str:
    """The characters after which BoundField.label_tag adds no label suffix: Django's own msgid, read from
    Django's catalog (called by another name so that makemessages does not copy it into ours)."""
    return _django_gettext(":?.!")


def _label_html(bound, *, punctuation: str) -> str:
    """BoundField.label_tag() with label.html, as FastFormRenderer writes it."""
    field, form, widget = bound.field, bound.form, bound.field.widget
    contents = bound.label
    suffix = field.label_suffix if field.label_suffix is not None else form.label_suffix
    if suffix and contents and contents[-1] not in punctuation:
        contents = f"{escape_text(contents)}{escape_text(suffix)}"
    else:
        contents = escape_text(contents)
    id_ = widget.attrs.get("id") or bound.auto_id
    if not id_:
        return contents
    attrs = {}
    for_id = widget.id_for_label(id_)
    if for_id:
        attrs["for"] = for_id
    if field.required and hasattr(form, "required_css_class"):
        attrs["class"] = form.required_css_class
    return f"<label{_attrs(attrs)}>{contents}</label>"


# The widgets field_group_html writes itself (their exact classes: a subclass may render otherwise).
_DIRECT_INPUTS = (
    forms.TextInput,
    forms.DateInput,
    forms.NumberInput,
    forms.EmailInput,
    forms.URLInput,
    forms.SearchInput,
    forms.TelInput,
)


def _widget_attrs(bound, widget, errors) -> dict:
    """BoundField.build_widget_attrs({}) for the widgets _widget_html writes (no MultiWidget, no fieldset),
    reading the field's errors once instead of building an empty error list at each look."""
    field, form = bound.field, bound.form
    attrs = {}
    if field.required and form.use_required_attribute and widget.use_required_attribute(bound.initial):
        attrs["required"] = True
    if field.disabled:
        attrs["disabled"] = True
    if errors and not widget.is_hidden:
        attrs["aria-invalid"] = "true"
    if not widget.attrs.get("aria-describedby") and bound.auto_id:  # BoundField.aria_describedby
        described = [f"{bound.auto_id}_helptext"] if bound.help_text else []
        if errors:
            described.append(f"{bound.auto_id}_error")
        if described:
            attrs["aria-describedby"] = " ".join(described)
    return attrs


def _widget_html(bound, errors) -> str | None:
    """BoundField.as_widget() for the plain inputs, the checkbox and the single selects; None otherwise."""
    widget = bound.field.widget
    kind = type(widget)
    direct_select = kind is forms.Select or getattr(widget, "shown_choices", None) is not None
    if not (kind in _DIRECT_INPUTS or kind is forms.CheckboxInput or direct_select):
        return None
    if FAST.get(widget.template_name) is None or (direct_select and widget.allow_multiple_selected):
        return None
    extra = _widget_attrs(bound, widget, errors)
    if bound.auto_id and "id" not in widget.attrs:
        extra.setdefault("id", bound.auto_id)
    value = bound.value()
    name = bound.html_name
    if kind is forms.CheckboxInput and widget.check_test(value):
        extra = {**extra, "checked": True}
    attrs = widget.build_attrs(widget.attrs, extra)
    if not direct_select:
        return _input({"type": widget.input_type, "name": name, "value": widget.format_value(value), "attrs": attrs})
    selected = widget.format_value(value)
    if kind is forms.Select:
        listed, truncated = widget.choices, False
    else:
        listed, truncated = widget.shown_choices(value)
    note_id = f"{attrs.get('id') or name}_more"
    if truncated:
        described = attrs.get("aria-describedby")
        attrs = {**attrs, "aria-describedby": f"{described} {note_id}" if described else note_id}
    parts = [f'<select name="{escape_text(name)}"{_attrs(attrs)}>']
    has_selected = False
    for option_value, label in listed:
        if isinstance(label, list | tuple):
            return None  # option groups: Django's widget writes them
        option_value = "" if option_value is None else option_value
        is_selected = not has_selected and str(option_value) in selected
        has_selected |= is_selected
        mark = " selected" if is_selected else ""
        parts.append(f'\n  <option value="{_value(option_value)}"{mark}>{escape_text(label)}</option>')
    parts.append("\n</select>")
    if truncated:
        text = escape_text(truncated_note(limit=widget.limit))
        parts.append(f'\n<p class="helptext" id="{escape_text(note_id)}">{text}</p>')
    return "".join(parts)


def field_group_html(bound, *, punctuation: str | None = None) -> str:
    """`bound.as_field_group()` as FastFormRenderer writes it, without Django's context building and
    template dispatch per field, label and widget (and per option of a select): the queue page's ten
    filter fields cost about a fifth of its Python calls that way. Fields it does not know (a fieldset,
    a custom template, a hidden or localised field) go through as_field_group itself.
    """
    field, form = bound.field, bound.form
    if (
        not isinstance(form.renderer, FastFormRenderer)
        or bound.template_name != "django/forms/field.html"
        or form.template_name_label != "django/forms/label.html"
        or bound.use_fieldset
        or bound.is_hidden
        or field.localize
        or field.show_hidden_initial
    ):
        return bound.as_field_group()
    errors = form.errors.get(bound.name)
    widget = _widget_html(bound, errors)
    if widget is None:
        return bound.as_field_group()
    parts = []
    if bound.label:
        parts.append(_label_html(bound, punctuation=_label_punctuation() if punctuation is None else punctuation))
    if bound.help_text:
        id_attr = f' id="{escape_text(bound.auto_id)}_helptext"' if bound.auto_id else ""
        parts.append(f'<div class="helptext"{id_attr}>{bound.help_text}</div>')  # `|safe` in Django's template
    parts.append(str(errors) if errors else "")
    parts.append(widget)
    return "\n".join(parts).strip()


def form_fields_html(form, *, row_class: str = "", visible_only: bool = False) -> SafeString:
    """Every field group of a form, each in a <div>, in one call: what a template's
    `{% for field in form %}<div class="...">{{ field.as_field_group }}</div>{% endfor %}` writes
    (`form.visible_fields` instead of `form` with visible_only).

    The officer queue writes its filter and bulk forms through it, and the dossier page the visible
    fields of its action forms, without a template loop per field.
    """
    opening = f'<div class="{escape_text(row_class)}">' if row_class else "<div>"
    punctuation = _label_punctuation()
    fields = form.visible_fields() if visible_only else form
    return SafeString("".join(f"{opening}{field_group_html(field, punctuation=punctuation)}</div>" for field in fields))
