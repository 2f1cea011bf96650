from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "civicgrid.notify"
    label = "notify"
    verbose_name = "消息推送"

    def ready(self):
        from civicgrid.notify import runner, signals  # noqa: F401  (connect the case-event receiver)

        runner.register_job()
        from civicgrid.core import observability
        from civicgrid.notify import metrics

        observability.register_gauges("notify", metrics.families)
