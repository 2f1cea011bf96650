from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "civicgrid.metrics"
    label = "metrics"
    verbose_name = "统计指标"

    def ready(self):
        from civicgrid.core import auditlabels, periodic
        from civicgrid.metrics import services

        # the daily rollup is kept current by one runner per round (see services: why a job)
        periodic.register(services.JOB_NAME, services.refresh_job, interval_seconds=services.JOB_INTERVAL)
        auditlabels.register_action_labels({"metrics.rollup.rebuild": "重建统计日汇总"})
