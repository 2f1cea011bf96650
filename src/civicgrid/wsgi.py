import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicgrid.settings")
application = get_wsgi_application()


def _load_urlconf() -> None:
    """Import the URL configuration — and with it every app's views and API routers — as the server process
    starts, not in whichever request reaches this process first (Django loads it lazily): that request would pay
    for importing and building all of them, a few hundred milliseconds of CPU."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - the cached property does the loading


_load_urlconf()
