"""考核指标月度完成 from the sheet the 区 sends (core's importer: /imports/ wizard with mapping, preview,
row-level errors; idempotent through the import ledger). One sheet per month: each row names the 街道, the 年度,
the 月份 and the indicator (by 序号 or 指标名称) with its 1-N月 累计总量 / 累计增幅 (and optionally 上年同期累计 and
全区排名). The row key is 街道/年度/月份/序号: importing the same sheet again changes nothing; a corrected figure
updates that month. A row of a 街道 outside the importer's tier is refused (it reads as unknown)."""

from __future__ import annotations

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
from civicgrid.goals import selectors, services
from civicgrid.goals.models import Indicator, Source
from civicgrid.places import selectors as place_selectors
from civicgrid.places.models import Street


def _number(label: str, *, percent: bool = False):
    def parse(value):
        if isinstance(value, bool):
            raise CellError(f"{label}不是数字：{value}")
        if isinstance(value, int | float | Decimal):
            return Decimal(str(value))
        limit = services.PERCENT_LIMIT if percent else services.AMOUNT_LIMIT
        try:
            return services.decimal_or_none(as_text(value), field="", label=label, limit=limit)
        except DomainError as exc:
            raise CellError(exc.message) from None

    return parse


FIELDS = (
    text_field("street", "街道", ("街道名称", "镇街", "单位"), required=True, max_length=100),
    integer_field("year", "年度", ("年份", "考核年度"), required=True, min_value=2000, max_value=2100),
    integer_field("month", "月份", ("截至月份", "统计月份"), required=True, min_value=1, max_value=12),
    integer_field("seq", "序号", ("指标序号", "编号"), min_value=1, max_value=999),
    text_field("indicator", "指标名称", ("指标", "考核指标", "名称"), max_length=100),
    Field(
        "ytd_total",
        "累计总量",
        ("1-N月完成总量", "累计完成", "本年累计", "完成总量", "总量"),
        parse=_number("累计总量"),
    ),
    Field(
        "ytd_growth",
        "累计增幅",
        ("增幅", "增幅(%)", "同比增长", "同比", "完成增幅"),
        parse=_number("累计增幅", percent=True),
    ),
    Field("prior_ytd", "上年同期累计", ("上年同期", "去年同期"), parse=_number("上年同期累计")),
    integer_field("rank", "全区排名", ("排名", "排位"), min_value=1, max_value=999),
    text_field("note", "备注", ("说明",), max_length=300),
)


def _can_import(user) -> bool:
    return selectors.can_edit(user)


def _clean(number: int, values: dict) -> dict:
    """Resolve the row's indicator. The importer's tier is checked when the row is written (:func:`_apply`); a
    miss reads the same whoever owns the 街道, so the preview tells nothing about another 街道's catalogue."""
    name = (values.get("street") or "").strip()
    street = Street.objects.filter(name=name).first() or Street.objects.filter(code=name).first()
    seq, title = values.get("seq"), (values.get("indicator") or "").strip()
    if seq is None and not title:
        raise RowError("请填写序号或指标名称")
    if values.get("ytd_total") is None and values.get("ytd_growth") is None:
        raise RowError("累计总量和累计增幅都为空")
    qs = Indicator.objects.filter(scorecard__street=street, scorecard__year=values["year"])
    ind = qs.filter(seq=seq).first() if seq is not None else qs.filter(name=title).first()
    if street is None or ind is None:
        raise RowError(f"找不到该指标：{name} {values['year']}年 {seq or title}（请先在考核指标目录中建立）")
    if seq is not None and title and title != ind.name:
        raise RowError(f"序号 {seq} 的指标名称与表中的「{title}」不符")
    values["indicator_id"], values["street_id"] = ind.pk, street.pk
    values["street"] = street.name
    # the row key (the ledger's): one indicator's one month
    values["indicator"] = f"{street.code}/{values['year']}/{values['month']:02d}/{ind.seq}"
    return values


def _describe(values: dict) -> dict[str, str]:
    return {"指标": values["indicator"], "期间": f"{values['year']}年1-{values['month']}月"}


def _apply(values: dict, ctx: ApplyContext) -> int:
    if not place_selectors.same_tier(ctx.actor, values["street_id"]):
        raise RowError(f"街道不在您的辖区：{values['street']}")
    indicator = Indicator.objects.select_related("scorecard").get(pk=values["indicator_id"])
    try:
        row = services.save_actual(
            actor=ctx.actor,
            indicator=indicator,
            month=values["month"],
            ytd_total=values.get("ytd_total"),
            ytd_growth=values.get("ytd_growth"),
            prior_ytd=values.get("prior_ytd"),
            rank=values.get("rank"),
            note=values.get("note") or "",
            source=Source.IMPORTED,
        )
    except DomainError as exc:
        raise RowError(exc.message) from None
    return row.pk


SPEC = register_spec(
    ImportSpec(
        name="goals.actuals",
        label="考核指标月度完成",
        fields=FIELDS,
        key_field="indicator",
        key_label="指标",
        clean=_clean,
        describe=_describe,
        apply_row=_apply,
        can_import=_can_import,
    )
)
