from django.apps import AppConfig


class TriageConfig(AppConfig):
    name = "civicgrid.triage"
    label = "triage"
    verbose_name = "智能分拨"

    def ready(self):
        from civicgrid.cases import panels
        from civicgrid.core import auditlabels, periodic
        from civicgrid.triage import services, signals, views  # noqa: F401  (receivers)

        periodic.register(
            services.INTAKE_JOB, services.process_intake, interval_seconds=services.INTAKE_INTERVAL_SECONDS
        )
        panels.register("triage", views.case_panel)
        panels.register("duplicates", views.duplicates_panel)
        auditlabels.register_action_labels(
            {
                "triage.suggest": "生成分拨建议",
                "triage.pick": "采用分拨建议",
                "triage.final": "记录最终分类/部门",
                "triage.keywords.save": "修改分拨关键词",
                "triage.train": "训练分拨模型",
                "triage.duplicates": "发现疑似重复工单",
                "triage.duplicate.merge": "合并重复工单",
                "triage.duplicate.dismiss": "标记不是重复",
                "triage.street_setting": "修改街道自动派遣设置",
                "triage.service_account": "创建智能分拨系统账号",
            }
        )
