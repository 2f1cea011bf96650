from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "civicgrid.core"
    label = "core"
    verbose_name = "平台核心"

    def ready(self):
        from civicgrid.core import checks  # noqa: F401  (deployment checks)
