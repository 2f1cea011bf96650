from django.apps import AppConfig


class RegistersConfig(AppConfig):
    name = "civicgrid.registers"
    label = "registers"
    verbose_name = "基础台账"

    def ready(self):
        from civicgrid.core import auditlabels
        from civicgrid.registers import imports, selectors  # noqa: F401  (scope rules, import spec)

        auditlabels.register_action_labels(
            {
                "registers.person.create": "登记人员",
                "registers.person.update": "修改人员信息",
                "registers.person.reveal": "查看人员完整个人信息",
                "registers.person.import": "导入人员",
                "registers.person.export_full": "导出完整人员信息",
                "registers.household.create": "建立户档",
                "registers.household.update": "修改户档",
                "registers.assistance.save": "登记救助帮扶",
                "registers.visit.create": "录入入户走访",
                "registers.floating.move": "流动人口登记/注销",
            }
        )
