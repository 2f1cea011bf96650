"""上级考核结果 from the sheet the 区/市 sends (core's importer: the /imports/ wizard with column mapping, preview and
row errors naming the row; idempotent through the import ledger). Each row: 街道, 月份 (``2026-06``, ``2026年6月``
or a date; or 年度 + 月份 columns), 得分, and optionally 考核名称 (default 城市长效管理考核), 排名, 参评单位数, 备注.
The row key is 街道/考核名称/年-月: importing the same sheet again changes nothing; a corrected score updates the
month. A 街道 outside the importer's tier reads as unknown."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal

from civicgrid.core.errors import DomainError
from civicgrid.core.importer import (
    ApplyContext,
    CellError,
    Field,
    ImportSpec,
    RowError,
    as_text,
    integer_field,
    register_spec,
    text_field,
)
from civicgrid.evaluation import selectors, services
from civicgrid.places import selectors as place_selectors
from civicgrid.places.models import Street

_MONTH = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?")


def _month(value):
    if isinstance(value, datetime | date):
        return date(value.year, value.month, 1)
    text = as_text(value)
    m = _MONTH.match(text)
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise CellError(f"月份格式不正确：{text[:40]}（应为 2026-06 或 2026年6月）")
    return date(int(m.group(1)), int(m.group(2)), 1)


def _score(value):
    if isinstance(value, bool):
        raise CellError(f"得分不是数字：{value}")
    if isinstance(value, int | float | Decimal):
        d = Decimal(str(value))
    else:
        try:
            d = Decimal(as_text(value).replace(",", ""))
        except ArithmeticError:
            raise CellError(f"得分不是数字：{as_text(value)[:40]}") from None
    if not d.is_finite() or not Decimal(0) <= d <= Decimal(10000):
        raise CellError(f"得分应在 0–10000 之间：{as_text(value)[:40]}")
    return d


FIELDS = (
    text_field("street", "街道", ("街道名称", "镇街", "单位", "被考核单位"), required=True, max_length=100),
    Field("month", "月份", ("考核月份", "期间", "年月"), True, _month),
    Field("score", "得分", ("考核得分", "分数", "总分", "综合得分"), True, _score),
    text_field("name", "考核名称", ("考核项目", "考核类别"), max_length=60),
    integer_field("rank", "排名", ("全区排名", "名次", "排位"), min_value=1, max_value=999),
    integer_field("total", "参评单位数", ("参评单位", "单位数"), min_value=1, max_value=999),
    text_field("note", "备注", ("说明",), max_length=300),
)


def _clean(number: int, values: dict) -> dict:
    name = (values.get("street") or "").strip()
    street = Street.objects.filter(name=name).first() or Street.objects.filter(code=name).first()
    if street is None:
        raise RowError(f"找不到街道：{name}")
    if values.get("rank") and values.get("total") and values["rank"] > values["total"]:
        raise RowError(f"排名 {values['rank']} 大于参评单位数 {values['total']}")
    values["street_id"], values["street"] = street.pk, street.name
    values["name"] = (values.get("name") or "").strip() or "城市长效管理考核"
    values["key"] = f"{street.code}/{values['name']}/{values['month']:%Y-%m}"
    return values


def _describe(values: dict) -> dict[str, str]:
    return {"街道": values["street"], "考核": values["name"], "月份": f"{values['month']:%Y年%m月}"}


def _apply(values: dict, ctx: ApplyContext) -> int:
    if not place_selectors.same_tier(ctx.actor, values["street_id"]):
        raise RowError(f"找不到街道：{values['street']}")  # reads like an unknown one: nothing leaks
    try:
        row, _changed = services.save_assessment(
            actor=ctx.actor,
            street=Street.objects.get(pk=values["street_id"]),
            month=values["month"],
            score=values["score"],
            name=values["name"],
            rank=values.get("rank"),
            total=values.get("total"),
            note=values.get("note") or "",
            source="imported",
        )
    except DomainError as exc:
        raise RowError(exc.message) from None
    return row.pk


SPEC = register_spec(
    ImportSpec(
        name="evaluation.assessments",
        label="上级考核结果（城市长效管理考核等）",
        fields=FIELDS,
        key_field="street",
        key_label="街道",
        clean=_clean,
        describe=_describe,
        apply_row=_apply,
        can_import=selectors.can_import,
        row_key=lambda values: values["key"],
        key_help="同一街道、同一考核名称、同一月份为一行；再次导入相同内容不变，分数更正则更新该月",
    )
)
