"""``{% warnings_panel %}``: the open-warnings partial for any page (a dashboard) — the warnings the signed-in user
may see, newest first."""

from django import template

from civicgrid.supervision import selectors

register = template.Library()


@register.inclusion_tag("supervision/_warnings_panel.html", takes_context=True)
def warnings_panel(context, limit: int = 10):
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not selectors.can_view(user):
        return {"warnings": [], "total": 0}
    return {
        "warnings": selectors.open_warnings(user=user, limit=limit),
        "total": selectors.open_warning_count(user=user),
    }
