from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "civicgrid.intake"
    label = "intake"
    verbose_name = "受理渠道"

    def ready(self):
        from civicgrid.cases.attachments import MAX_BYTES
        from civicgrid.core.middleware import MB, register_body_limit
        from civicgrid.intake import tasks  # noqa: F401  (registers the import job kind with the runner)
        from civicgrid.intake.photos import MAX_PHOTOS

        # 随手拍 and the grid worker's report: the photos of one report
        register_body_limit(r"^(?:/s/|/field/)\Z", MAX_PHOTOS * MAX_BYTES + MB)
        from civicgrid.core import observability
        from civicgrid.intake import metrics

        observability.register_gauges("intake", metrics.families)
