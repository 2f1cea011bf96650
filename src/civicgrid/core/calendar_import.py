"""工作日历调整 from a spreadsheet: a State Council holiday notice typed into Excel (日期, 上班/放假, 名称, 备注)
becomes :class:`~civicgrid.core.models.CalendarOverride` rows through core's importer
(:mod:`civicgrid.core.importer`). The row key is the date: re-importing the same file changes nothing, a
changed row updates that day. Only the 系统管理员 may import (as in the admin)."""

from __future__ import annotations

from civicgrid.core import audit
from civicgrid.core.importer import (
    ApplyContext,
    ImportSpec,
    RowError,
    choice_field,
    date_field,
    register_spec,
    text_field,
)
from civicgrid.core.models import CalendarOverride
from civicgrid.core.roles import Capability, has_capability

STATUS = {"上班": True, "调休上班": True, "工作日": True, "补班": True, "放假": False, "休息": False, "休": False,
          "节假日": False, "班": True}  # fmt: skip

FIELDS = (
    date_field("date", "日期", ("调整日期", "日子"), required=True),
    choice_field("is_workday", "上班/放假", STATUS, ("状态", "类型", "安排", "是否上班"), required=True),
    text_field("name", "名称", ("节日", "节假日", "说明"), max_length=50),
    text_field("note", "备注", ("注释",)),
)


def _can_import(user) -> bool:
    return has_capability(user, Capability.SYSTEM_CONFIGURE)


def _clean(number: int, values: dict) -> dict:
    day = values["date"]
    if not 2000 <= day.year <= 2100:
        raise RowError(f"日期超出范围（2000–2100 年）：{day:%Y-%m-%d}")
    values["name"] = values.get("name") or ""
    values["note"] = values.get("note") or ""
    return values


def _describe(values: dict) -> dict[str, str]:
    return {"当天": "上班" if values["is_workday"] else "放假"}


def _apply(values: dict, ctx: ApplyContext) -> int:
    fields = {k: values[k] for k in ("is_workday", "name", "note")}
    row = CalendarOverride.objects.filter(date=values["date"]).first()
    before = audit.snapshot(row, ["date", "is_workday", "name", "note"]) if row else None
    if row is None:
        row = CalendarOverride.objects.create(date=values["date"], **fields)
    else:
        for k, v in fields.items():
            setattr(row, k, v)
        row.save()
    audit.record(
        actor=ctx.actor,
        action="core.calendar_override.import",
        obj=row,
        before=before,
        after=audit.snapshot(row, ["date", "is_workday", "name", "note"]),
    )
    return row.pk


SPEC = register_spec(
    ImportSpec(
        name="core.calendar_overrides",
        label="工作日历调整",
        fields=FIELDS,
        key_field="date",
        key_label="日期",
        clean=_clean,
        describe=_describe,
        apply_row=_apply,
        can_import=_can_import,
    )
)
