from django.apps import AppConfig


class GridworkConfig(AppConfig):
    name = "civicgrid.gridwork"
    label = "gridwork"
    verbose_name = "巡访打卡"

    def ready(self):
        from civicgrid.core import auditlabels
        from civicgrid.gridwork import selectors  # noqa: F401  (scope rules)

        auditlabels.register_action_labels(
            {
                "gridwork.patrol.start": "开始巡查",
                "gridwork.patrol.stop": "结束巡查",
                "gridwork.track.upload": "上传巡查轨迹",
                "gridwork.point_check.create": "点位打卡",
            }
        )
        # the 指挥中心's ledger summary (civicgrid.metrics.ledgers; the dashboards never import this app)
        from civicgrid.gridwork import selectors as _selectors
        from civicgrid.metrics import ledgers

        ledgers.register(
            "gridwork", "巡查打卡", _selectors.ledger_summary, url="/gridwork/patrols/", order=60
        )
