from django.apps import AppConfig


class EnforcementConfig(AppConfig):
    name = "civicgrid.enforcement"
    label = "enforcement"
    verbose_name = "综合执法"

    def ready(self):
        # the 综合执法 procedure is registered before the URLconf loads (cases.api generates its move endpoints)
        from civicgrid.core import auditlabels
        from civicgrid.enforcement import imports, selectors, workflow  # noqa: F401  (scope rules, import spec)

        workflow.register()
        auditlabels.register_action_labels(
            {
                "enforcement.case.register": "登记执法案件",
                "enforcement.case.import": "导入执法案件",
            }
        )
        # the 指挥中心's ledger summary (civicgrid.metrics.ledgers; the dashboards never import this app)
        from civicgrid.enforcement import selectors as _selectors
        from civicgrid.metrics import ledgers

        ledgers.register("enforcement", "综合执法", _selectors.ledger_summary, url="/enforcement/", order=40)
