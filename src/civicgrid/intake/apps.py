from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "civicgrid.intake"
    label = "intake"
    verbose_name = "受理渠道"

    def ready(self):
        from civicgrid.intake import tasks  # noqa: F401  (registers the import job kind with the runner)
