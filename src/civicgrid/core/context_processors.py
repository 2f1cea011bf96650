from django.conf import settings


def platform(request):
    user = getattr(request, "user", None)
    return {
        "PLATFORM_NAME": settings.CIVICGRID["PLATFORM_NAME"],
        "user_role_label": user.get_role_display() if user is not None and user.is_authenticated else "",
    }
