from django.apps import AppConfig


class PetitionsConfig(AppConfig):
    name = "civicgrid.petitions"
    label = "petitions"
    verbose_name = "信访"

    def ready(self):
        # the 信访 procedure is registered before the URLconf loads (cases.api generates its move endpoints)
        from civicgrid.core import auditlabels
        from civicgrid.petitions import imports, selectors, workflow  # noqa: F401  (scope rules, import spec)

        workflow.register()
        auditlabels.register_action_labels(
            {
                "petitions.petition.create": "登记信访",
                "petitions.task.create": "交办信访协查任务",
                "petitions.task.done": "完成信访协查任务",
                "petitions.backlog.resolve": "信访积案化解",
                "petitions.reception.create": "登记来访接待",
                "petitions.petition.import": "导入信访台账",
            }
        )
        # the 指挥中心's ledger summary (civicgrid.metrics.ledgers; the dashboards never import this app)
        from civicgrid.metrics import ledgers
        from civicgrid.petitions import selectors as _selectors

        ledgers.register("petitions", "信访", _selectors.ledger_summary, url="/petitions/", order=30)
