"""The catalogue is kept here by the 系统管理员 of the 街道 (scoped by the models' rules): 考核年度 with its 黄灯
区间, 考核指标 (targets, 口径, direction, weight; the months inline), 重点项目 (with their months inline). Every
save is audited (AuditedAdmin)."""

from django import forms
from django.contrib import admin

from civicgrid.core.admin import AuditedAdmin, SystemAdminOnly
from civicgrid.goals.models import (
    Actual,
    Indicator,
    MicroFlowStep,
    MicroProject,
    MicroStepLog,
    Project,
    ProjectMilestone,
    ProjectProgress,
    Scorecard,
    StageItem,
)
from civicgrid.goals.services import sync_stages
from civicgrid.metrics import registry as metric_registry


@admin.register(Scorecard)
class ScorecardAdmin(SystemAdminOnly, AuditedAdmin):
    list_display = ("__str__", "title", "yellow_margin")
    list_filter = ("year",)


class ActualInline(admin.TabularInline):
    model = Actual
    extra = 0
    fields = ("month", "ytd_total", "ytd_growth", "prior_ytd", "rank", "source", "note")


class IndicatorForm(forms.ModelForm):
    """(the admin builds the fields) A "平台计算" indicator must name a figure of the metrics module."""

    def clean(self):
        data = super().clean()
        metric = (data.get("metric") or "").strip()
        if data.get("source") == "computed" and metric not in metric_registry.REGISTRY:
            names = "、".join(f"{m.name}（{m.label}）" for m in metric_registry.all_metrics())
            self.add_error("metric", f"“平台计算”须选择统计模块中的指标，可选：{names}")
        return data


@admin.register(Indicator)
class IndicatorAdmin(SystemAdminOnly, AuditedAdmin):
    form = IndicatorForm
    list_display = (
        "seq",
        "name",
        "scorecard",
        "basis",
        "target_total",
        "target_growth",
        "department",
        "leader",
    )
    list_display_links = ("seq", "name")
    list_filter = ("scorecard__year", "basis", "source")
    search_fields = ("name", "department", "leader")
    readonly_fields = ("override_by", "override_at")
    inlines = [ActualInline]


class ProgressInline(admin.TabularInline):
    model = ProjectProgress
    extra = 0
    fields = ("month", "cumulative", "note")


@admin.register(Project)
class ProjectAdmin(SystemAdminOnly, AuditedAdmin):
    list_display = ("name", "street", "year", "category", "annual_plan", "owner")
    list_filter = ("year", "category")
    search_fields = ("name", "owner", "address")
    inlines = [ProgressInline]
    fieldsets = [
        (None, {"fields": ("street", "year", "category", "name", "owner", "address", "lng", "lat", "note")}),
        ("投资（万元）", {"fields": ("total_investment", "annual_plan")}),
        (
            "阶段计数（电梯加装：台；老旧小区改造：个小区）",
            {
                "fields": (
                    "stage_applied",
                    "stage_building",
                    "stage_pending",
                    "stage_in_use",
                    "households",
                    "floor_area",
                )
            },
        ),
    ]


class MilestoneInline(admin.TabularInline):
    model = ProjectMilestone
    extra = 0
    fields = ("kind", "planned", "actual", "note")


class StageItemInline(admin.TabularInline):
    model = StageItem
    extra = 0
    fields = ("name", "community", "stage", "households", "floor_area", "stage_since", "note")


ProjectAdmin.inlines = [ProgressInline, MilestoneInline, StageItemInline]


def _save_related(self, request, form, formsets, change):
    super(ProjectAdmin, self).save_related(request, form, formsets, change)
    sync_stages(form.instance)  # the stage counts follow the items (when there are any)


ProjectAdmin.save_related = _save_related


@admin.register(MicroFlowStep)
class MicroFlowStepAdmin(SystemAdminOnly, AuditedAdmin):
    list_display = ("street", "step", "label", "enabled")
    list_filter = ("step", "enabled")


class MicroLogInline(admin.TabularInline):
    model = MicroStepLog
    extra = 0
    fields = ("from_step", "to_step", "note", "by", "at")
    readonly_fields = fields
    can_delete = False


@admin.register(MicroProject)
class MicroProjectAdmin(SystemAdminOnly, AuditedAdmin):
    list_display = ("name", "street", "year", "community", "step", "budget")
    list_filter = ("year", "step")
    search_fields = ("name", "community", "proposer")
    readonly_fields = ("created_by", "created_at")
    inlines = [MicroLogInline]
