from django.apps import AppConfig


class ActivitiesConfig(AppConfig):
    name = "civicgrid.activities"
    label = "activities"
    verbose_name = "活动台账·应急预案·志愿者"

    def ready(self):
        from civicgrid.activities import imports, selectors  # noqa: F401  (scope rules, import specs)
        from civicgrid.core import auditlabels
        from civicgrid.metrics import ledgers

        ledgers.register("activities", "活动台账", selectors.ledger_summary, url="/activities/", order=90)

        auditlabels.register_action_labels(
            {
                "activities.activity.create": "登记活动",
                "activities.activity.update": "修改活动",
                "activities.activity.delete": "删除活动",
                "activities.activity.import": "导入活动",
                "activities.plan.create": "登记应急预案",
                "activities.plan.update": "修改应急预案",
                "activities.plan.delete": "删除应急预案",
                "activities.plan.import": "导入应急预案",
                "activities.volunteer.create": "登记志愿者",
                "activities.volunteer.update": "修改志愿者",
                "activities.volunteer.import": "导入志愿者",
                "activities.timebank.entry": "时间银行记录",
            }
        )
