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
