from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "civicgrid.reports"
    label = "reports"
    verbose_name = "工作总结"

    def ready(self):
        from civicgrid.core import auditlabels
        from civicgrid.reports import selectors  # noqa: F401  (scope rules)

        auditlabels.register_action_labels(
            {
                "reports.draft": "起草工作总结",
                "reports.template.upload": "上传工作总结模板",
                "reports.template.retire": "停用工作总结模板",
            }
        )
