from django.apps import AppConfig


class GoalsConfig(AppConfig):
    name = "civicgrid.goals"
    label = "goals"
    verbose_name = "目标考核"

    def ready(self):
        from civicgrid.core import auditlabels
        from civicgrid.goals import imports, selectors  # noqa: F401  (scope rules, the import spec)

        auditlabels.register_action_labels(
            {
                "goals.actual.save": "填报考核指标月度完成",
                "goals.actual.import": "导入考核指标月度完成",
                "goals.forecast.override": "人工调整全年预计",
                "goals.forecast.clear": "取消人工预计",
                "goals.progress.save": "填报项目月度投资",
                "goals.demo.load": "加载目标考核演示数据",
            }
        )
