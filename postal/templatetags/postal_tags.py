from django import template

from postal.services import shipments_for

register = template.Library()


@register.inclusion_tag("postal/_shipments.html")
def shipments(dossier):
    return {"shipments": shipments_for(dossier)}
