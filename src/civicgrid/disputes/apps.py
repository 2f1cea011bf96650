from django.apps import AppConfig


class DisputesConfig(AppConfig):
    name = "civicgrid.disputes"
    label = "disputes"
    verbose_name = "矛盾纠纷"

    def ready(self):
        # the 矛盾纠纷 procedure is registered before the URLconf loads (cases.api generates its move endpoints)
        from civicgrid.core import auditlabels
        from civicgrid.disputes import importing, workflow  # noqa: F401  (the import spec registers itself)

        workflow.register()
        auditlabels.register_action_labels(
            {
                "disputes.dispute.create": "登记矛盾纠纷",
                "disputes.dispute.import_update": "导入更新矛盾纠纷",
                "disputes.party.create": "添加当事人",
                "disputes.session.create": "登记调解记录",
                "disputes.agreement.generate": "生成调解协议书",
            }
        )
        # the 指挥中心's ledger summary (civicgrid.metrics.ledgers; the dashboards never import this app)
        from civicgrid.disputes import selectors as _selectors
        from civicgrid.metrics import ledgers

        ledgers.register("disputes", "矛盾纠纷", _selectors.ledger_summary, url="/disputes/", order=20)
