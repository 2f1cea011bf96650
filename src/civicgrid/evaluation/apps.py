from django.apps import AppConfig


class EvaluationConfig(AppConfig):
    name = "civicgrid.evaluation"
    label = "evaluation"
    verbose_name = "行政问效（三率考评、红黑榜）"

    def ready(self):
        from civicgrid.core import auditlabels
        from civicgrid.evaluation import imports, selectors  # noqa: F401  (the import spec, the scope rules)

        auditlabels.register_action_labels(
            {
                "evaluation.settings.save": "保存考评设置",
                "evaluation.board.draft": "草拟红黑榜",
                "evaluation.board.submit": "红黑榜提交审核",
                "evaluation.board.return": "红黑榜退回修改",
                "evaluation.board.publish": "发布红黑榜",
                "evaluation.assessment.save": "保存上级考核结果",
                "evaluation.assessment.import": "导入上级考核结果",
            }
        )
