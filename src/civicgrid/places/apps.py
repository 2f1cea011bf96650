from django.apps import AppConfig


class PlacesConfig(AppConfig):
    name = "civicgrid.places"
    label = "places"
    verbose_name = "地理网格"

    def ready(self):
        from civicgrid.places import (
            selectors,  # noqa: F401  (register scope rules)
            signals,  # noqa: F401  (bump the grid revision on every change)
        )
