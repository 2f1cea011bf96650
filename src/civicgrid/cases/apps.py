from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "civicgrid.cases"
    label = "cases"
    verbose_name = "案件"

    def ready(self):
        from civicgrid.cases import exports, selectors, signals  # noqa: F401  (scope rules, catalogue refresh, exporter)
        from civicgrid.cases.attachments import MAX_BYTES, MAX_PHOTOS_PER_MOVE
        from civicgrid.cases.workflow import MOVES
        from civicgrid.core import auditlabels
        from civicgrid.core.middleware import MB, register_body_limit

        # request-body limits: one photo; a move's photos (API 处置完成, the web forms 上报 and a case's actions)
        register_body_limit(r"^/api/v1/cases/attachments/?$", MAX_BYTES + MB)
        register_body_limit(r"^/api/v1/cases/\d+/finish/?$", MAX_PHOTOS_PER_MOVE * MAX_BYTES + MB)
        register_body_limit(r"^/cases/(new|\d+)/$", MAX_PHOTOS_PER_MOVE * MAX_BYTES + MB)
        auditlabels.register_action_labels(
            {f"cases.case.{name}": f"工单：{m.label}" for name, m in MOVES.items()}
        )

        from civicgrid.cases import jobs

        jobs.register()  # the deadline-light round, run by core's periodic runner
        from civicgrid.cases import metrics
        from civicgrid.core import observability

        observability.register_gauges("cases", metrics.families)
