from django.apps import AppConfig


class PlacesConfig(AppConfig):
    name = "civicgrid.places"
    label = "places"
    verbose_name = "地理网格"

    def ready(self):
        from civicgrid.core import geoindex
        from civicgrid.core.middleware import MB, register_body_limit
        from civicgrid.places import (
            selectors,  # noqa: F401  (register scope rules)
            signals,  # noqa: F401  (bump the grid revision on every change)
        )
        from civicgrid.places.importers import MAX_FILE_BYTES

        register_body_limit(r"^/api/v1/places/import/?$", MAX_FILE_BYTES + MB)  # one boundary file
        # the grid index in core reads the grids (and their revision) through these
        geoindex.register_source(
            load_grids=lambda: selectors.active_grid_shapes(),
            read_revision=lambda: signals.current_revision(),
        )
