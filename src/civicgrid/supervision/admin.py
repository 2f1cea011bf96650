"""预警规则设置 per 街道 (系统管理员); 督办 and 预警 are read-only here (they change through the screens)."""

from django.contrib import admin

from civicgrid.core.admin import AuditedAdmin, SystemAdminOnly
from civicgrid.supervision.models import WarningConfig


@admin.register(WarningConfig)
class WarningConfigAdmin(SystemAdminOnly, AuditedAdmin):
    list_display = (
        "street",
        "surge_enabled",
        "surge_weeks",
        "surge_threshold",
        "surge_min_count",
        "repeat_enabled",
        "repeat_days",
        "overdue_enabled",
    )
    fieldsets = (
        (None, {"fields": ("street",)}),
        (
            "突增预警（社区 × 分类大类，同星期几基线，泊松尾概率）",
            {"fields": ("surge_enabled", "surge_weeks", "surge_threshold", "surge_min_count")},
        ),
        (
            "重复地址 / 重复来电",
            {"fields": ("repeat_enabled", "repeat_address_count", "repeat_caller_count", "repeat_days")},
        ),
        (
            "超期风险（部门近期处置用时分位数）",
            {
                "fields": (
                    "overdue_enabled",
                    "overdue_lookback_days",
                    "overdue_quantile",
                    "overdue_min_samples",
                )
            },
        ),
    )
