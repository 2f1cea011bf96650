from django.apps import AppConfig


class OpinionConfig(AppConfig):
    name = "civicgrid.opinion"
    label = "opinion"
    verbose_name = "舆情"

    def ready(self):
        # the 舆情 procedure is registered before the URLconf loads (cases.api generates its move endpoints)
        from civicgrid.core import auditlabels
        from civicgrid.opinion import imports, workflow  # noqa: F401  (the import spec)

        workflow.register()
        auditlabels.register_action_labels(
            {"opinion.case.register": "登记舆情", "opinion.case.import": "导入舆情"}
        )
        # the 指挥中心's ledger summary (civicgrid.metrics.ledgers; the dashboards never import this app)
        from civicgrid.metrics import ledgers
        from civicgrid.opinion import selectors as _selectors

        ledgers.register("opinion", "舆情", _selectors.ledger_summary, url="/opinion/", order=50)
