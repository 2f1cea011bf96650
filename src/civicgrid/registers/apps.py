from django.apps import AppConfig


class RegistersConfig(AppConfig):
    name = "civicgrid.registers"
    label = "registers"
    verbose_name = "基础台账"

    def ready(self):
        from civicgrid.metrics import ledgers
        from civicgrid.registers import metrics as _metrics

        ledgers.register(
            "registers", "基础台账", _metrics.ledger_summary, url="/registers/figures/", order=70
        )
        from civicgrid.core import auditlabels, periodic
        from civicgrid.registers import imports, selectors, services  # noqa: F401  (scope rules, import spec)

        periodic.register("registers.purge", _purge, interval_seconds=86400, ttl_seconds=600)

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
                "registers.payment.import": "导入保障金发放",
                "registers.person.purge": "超期清除个人信息",
                "registers.keys.rotate": "个人信息密钥轮换",
            }
        )


def _purge():
    """The daily retention job: ``civicgrid registers purge`` with the configured period."""
    from django.conf import settings

    from civicgrid.registers import services

    return services.purge_personal_data(years=settings.CIVICGRID_PII_RETENTION_YEARS)
