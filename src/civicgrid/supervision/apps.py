from django.apps import AppConfig


class SupervisionConfig(AppConfig):
    name = "civicgrid.supervision"
    label = "supervision"
    verbose_name = "督办与预警"

    def ready(self):
        from civicgrid.metrics import ledgers
        from civicgrid.supervision import selectors as _selectors

        ledgers.register("supervision", "督办预警", _selectors.ledger_summary, url="/supervision/", order=45)
        ledgers.register_alerts(
            "supervision", "预警预判", _selectors.alert_feed, url="/supervision/warnings/", order=45
        )
        from civicgrid.cases import panels
        from civicgrid.core import auditlabels, periodic
        from civicgrid.supervision import selectors, services, signals, views  # noqa: F401  (scope rules, receivers)

        panels.register("supervision", views.case_panel)
        periodic.register(services.JOB_NAME, services.run_job, interval_seconds=services.JOB_INTERVAL_SECONDS)
        auditlabels.register_action_labels(
            {
                "supervision.case": "督办案件",
                "supervision.department": "督办部门超期工单",
                "supervision.clear": "督办销号",
                "supervision.auto_clear": "督办自动销号",
                "supervision.track": "记录督办",
                "supervision.warning.raise": "生成预警",
                "supervision.warning.acknowledge": "确认预警",
                "supervision.warning.resolve": "处置预警",
                "supervision.demo.load": "加载督办与预警演示数据",
                "supervision.warning.backfill": "补算历史预警",
            }
        )
