from django.apps import AppConfig

JOB_NAME = "goals_recompute"


def _recompute():
    from civicgrid.goals import services

    return services.recompute_due()


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
                "goals.milestone.save": "填报项目节点",
                "goals.issue.raise": "项目问题转工单",
                "goals.stage.add": "登记电梯加装/老旧小区改造明细",
                "goals.stage.advance": "电梯加装/老旧小区改造进入下一阶段",
                "goals.micro.create": "征集民生微实事",
                "goals.micro.move": "民生微实事流转",
                "goals.actual.compute": "平台计算考核指标",
                "goals.catalogue.import": "导入考核指标目录",
            }
        )
        from civicgrid.core import periodic

        # "平台计算" indicators: last month's and this month's figures from the metrics module, once a day
        periodic.register(JOB_NAME, _recompute, interval_seconds=24 * 3600, ttl_seconds=1800)
