from django.conf import settings

from civicgrid.core.roles import Capability, capabilities, has_capability


def platform(request):
    user = getattr(request, "user", None)
    return {
        "PLATFORM_NAME": settings.CIVICGRID["PLATFORM_NAME"],
        "user_role_label": user.get_role_display() if user is not None and user.is_authenticated else "",
        # the user's capabilities (civicgrid.core.roles): menus ask {% if "case_create" in caps %}
        "caps": frozenset(str(c) for c in capabilities(getattr(user, "role", None)))
        if user is not None and user.is_authenticated and user.is_active
        else frozenset(),
        # the generic import's menu entry (civicgrid.core.import_views): asked only when a menu is drawn
        "importable_specs": lambda: _importable_specs(user),
    }


def _importable_specs(user) -> list:
    from civicgrid.core.importer import importable_specs

    return importable_specs(user=user)


def calendar_banner(request):
    """For system admins: the years whose State Council holiday notice still has to be entered.

    The current year is checked always, the next one from October on (civicgrid.core.clock, Asia/Shanghai).
    """
    user = getattr(request, "user", None)
    if not has_capability(user, Capability.SYSTEM_CONFIGURE):
        return {}
    from civicgrid.core.workcalendar import years_needing_notice

    years = years_needing_notice()
    return {"calendar_missing_years": years} if years else {}
