from django import template

from dossiers.postal.services import shipments_for

register = template.Library()


@register.inclusion_tag("postal/_shipments.html")
def shipments(dossier):
    # Only a dossier sent or answered by post can have shipments: the others cost no query.
    by_post = "postal" in (dossier.channel_in, dossier.channel_out)
    return {"shipments": shipments_for(dossier) if by_post else []}
