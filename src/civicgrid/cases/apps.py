from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "civicgrid.cases"
    label = "cases"
    verbose_name = "案件"

    def ready(self):
        from civicgrid.cases import exports, selectors, signals  # noqa: F401  (scope rules, catalogue refresh, exporter)
        from civicgrid.cases.scheduler import maybe_start

        maybe_start()
