from django.apps import AppConfig


class EstatesConfig(AppConfig):
    name = "civicgrid.estates"
    label = "estates"
    verbose_name = "出租房·楼宇企业·专项排查"

    def ready(self):
        from civicgrid.estates import metrics as _metrics
        from civicgrid.metrics import ledgers

        ledgers.register("estates", "出租房·楼宇", _metrics.ledger_summary, url="/estates/", order=80)
        from civicgrid.core import auditlabels
        from civicgrid.estates import imports, selectors  # noqa: F401  (scope rules, import specs)

        auditlabels.register_action_labels(
            {
                "estates.rental.save": "登记/修改出租房",
                "estates.rental.import": "导入出租房",
                "estates.rental.inspect": "出租房检查",
                "estates.rental.clear": "出租房清退",
                "estates.building.save": "修改楼宇信息",
                "estates.enterprise.save": "修改入驻单位信息",
                "estates.enterprise.visit": "企业走访",
                "estates.campaign.save": "建立专项排查",
                "estates.target.import": "导入排查对象",
                "estates.target.result": "录入排查结果",
            }
        )
