import datetime

from django import template
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.template.defaultfilters import date as date_filter
from django.urls import get_script_prefix, get_urlconf
from django.utils.translation import get_language

from portal.context_processors import site

register = template.Library()


@register.filter
def vnd(amount) -> str:
    """An amount of Vietnamese đồng as people read it: "75.000 đồng" (English: "75,000 VND")."""
    try:
        value = int(amount)
    except (TypeError, ValueError):
        return ""
    grouped = f"{value:,}"
    if (get_language() or "vi").startswith("vi"):
        return grouped.replace(",", ".") + " đồng"
    return grouped + " VND"


@register.filter(expects_localtime=True, is_safe=False)
def hm_dmy(value, empty: str = "") -> str:
    """`value|date:"H:i d/m/Y"|default:empty` without building a DateFormat for every value.

    The time and date as the portal writes them ("09:05 02/03/2026"), in the current time zone
    (expects_localtime, as Django's date filter); `empty` when there is no value.
    """
    if value in (None, ""):
        return empty
    if isinstance(value, datetime.datetime):
        return f"{value.hour:02d}:{value.minute:02d} {value.day:02d}/{value.month:02d}/{value.year:04d}"
    return date_filter(value, "H:i d/m/Y") or empty


# --- regions rendered once per language ------------------------------------------------------------

# Bumped whenever a setting changes (tests override them): every region renders again afterwards.
_settings_generation = [0]


@receiver(setting_changed)
def _forget_rendered_regions(**kwargs) -> None:
    _settings_generation[0] += 1


class PerLanguageNode(template.Node):
    """A template region whose output depends on the language alone, rendered once per process.

    The region sees only the site-wide values (LANGUAGE_CODE and those of the `site` context
    processor), never the request, the user or the view's context: whatever else it named would
    render empty, so it cannot carry one person's data to another. `{% url %}`, `{% trans %}` and
    `{% static %}` inside it are looked up once per language, script prefix and URLconf instead of
    on every page.
    """

    def __init__(self, nodelist):
        self.nodelist = nodelist
        self.rendered: dict[tuple, str] = {}

    def render(self, context):
        key = (_settings_generation[0], get_language(), get_script_prefix(), get_urlconf())
        rendered = self.rendered.get(key)
        if rendered is None:
            site_values = site(None)
            region = template.Context(
                {"LANGUAGE_CODE": get_language(), **site_values},
                autoescape=context.autoescape,
                use_l10n=context.use_l10n,
                use_tz=context.use_tz,
            )
            region.template = context.template
            rendered = self.rendered[key] = self.nodelist.render(region)
        return rendered


@register.tag
def perlanguage(parser, token):
    """`{% perlanguage %}…{% endperlanguage %}`: see PerLanguageNode."""
    nodelist = parser.parse(("endperlanguage",))
    parser.delete_first_token()
    return PerLanguageNode(nodelist)
