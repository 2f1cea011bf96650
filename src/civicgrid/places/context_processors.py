"""Template context of the places app."""

from __future__ import annotations

from django.conf import settings


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
