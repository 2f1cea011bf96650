from django.conf import settings


def platform(request):
    user = getattr(request, "user", None)
    return {
        "PLATFORM_NAME": settings.CIVICGRID["PLATFORM_NAME"],
        "user_role_label": user.get_role_display() if user is not None and user.is_authenticated else "",
    }


def calendar_banner(request):
    """For system admins: the years whose State Council holiday notice still has to be entered.

    The current year is checked always, the next one from October on (civicgrid.core.clock, Asia/Shanghai).
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or getattr(user, "role", None) != "system_admin":
        return {}
    from civicgrid.core.workcalendar import years_needing_notice

    years = years_needing_notice()
    return {"calendar_missing_years": years} if years else {}


def basemap(request):
    """``basemap_config``: the base-layer definition map pages hand to ``static/js/basemap.js`` (through
    ``core/_basemap.html``). Computed only when a template uses it."""

    def config() -> dict:
        from django.urls import reverse

        from civicgrid.places.selectors import has_basemap

        conf = settings.CIVICGRID["BASEMAP"]
        vector = reverse("places:basemap") if conf["kind"] == "none" and has_basemap() else None
        return {"kind": conf["kind"], "crs": conf["crs"], "layers": conf["layers"], "vector": vector}

    return {"basemap_config": config}
