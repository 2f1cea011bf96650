from django.apps import AppConfig


class HazardsConfig(AppConfig):
    name = "civicgrid.hazards"
    label = "hazards"
    verbose_name = "安全隐患"

    def ready(self):
        # the 安全隐患 procedure is registered before the URLconf loads (cases.api generates its move endpoints)
        from civicgrid.cases.attachments import MAX_BYTES
        from civicgrid.core import auditlabels
        from civicgrid.core.middleware import MB, register_body_limit
        from civicgrid.hazards import imports, selectors, workflow  # noqa: F401  (scope rules, import spec)

        workflow.register()
        # the phone checklist: a few photos per failed item and of the inspection
        register_body_limit(r"^/hazards/inspect/\Z", 18 * MAX_BYTES + MB)  # + 6 of the inspection itself
        auditlabels.register_action_labels(
            {
                "hazards.inspection.create": "录入安全检查",
                "hazards.hazard.create": "登记安全隐患",
                "hazards.hazard.import": "导入安全隐患",
                "hazards.fire_register.save": "登记消防设施",
            }
        )
        # the 指挥中心's ledger summary (civicgrid.metrics.ledgers; the dashboards never import this app)
        from civicgrid.hazards import selectors as _selectors
        from civicgrid.metrics import ledgers

        ledgers.register("hazards", "安全隐患", _selectors.ledger_summary, url="/hazards/", order=10)
