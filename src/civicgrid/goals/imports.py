"""考核指标月度完成 from the sheet the 区 sends (core's importer: /imports/ wizard with mapping, preview,
row-level errors; idempotent through the import ledger). One sheet per month: each row names the 街道, the 年度,
the 月份 and the indicator (by 序号 or 指标名称) with its 1-N月 累计总量 / 累计增幅 (and optionally 上年同期累计 and
全区排名). The row key is 街道/年度/月份/序号: importing the same sheet again changes nothing; a corrected figure
updates that month. A row of a 街道 outside the importer's tier is refused (it reads as unknown).

The yearly catalogue (``goals.catalogue``) comes the same way: 街道, 年度, 序号, 指标名称, 单位, 口径, 目标总量, 目标增幅,
责任科室, 分管领导, 方向, 权重 (and 平台指标 for an indicator computed from the platform's metrics); the row key is
街道/年度/序号, so the same sheet imported again changes nothing and a corrected row updates its indicator."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from civicgrid.core import audit
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
from civicgrid.goals.models import Basis, Indicator, Scorecard, Source
from civicgrid.metrics import registry as metric_registry
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


# --- the indicator catalogue (考核指标目录) --------------------------------------------------------------------

BASIS_WORDS = {
    "总量": Basis.TOTAL,
    "增幅": Basis.GROWTH,
    "增速": Basis.GROWTH,
    "比率": Basis.RATIO,
    "比例": Basis.RATIO,
    "率": Basis.RATIO,
    "完成与否": Basis.DONE,
    "定性": Basis.DONE,
}
HIGHER_WORDS = {"越高越好", "正向", "高", "↑", "越大越好"}
LOWER_WORDS = {"越低越好", "逆向", "负向", "低", "↓", "越小越好"}


def _basis(value):
    text = as_text(value)
    if not text:
        return Basis.TOTAL
    if text in Basis.values:
        return text
    for word, code in BASIS_WORDS.items():
        if word == text or (len(word) > 1 and word in text):
            return code
    raise CellError(f"口径应为 总量/增幅/比率/完成与否：{text}")


def _direction(value):
    text = as_text(value)
    if not text or text in HIGHER_WORDS:
        return True
    if text in LOWER_WORDS:
        return False
    raise CellError(f"方向应为 越高越好/越低越好：{text}")


def _metric(value):
    text = as_text(value)
    if not text:
        return ""
    if text in metric_registry.REGISTRY:
        return text
    for m in metric_registry.all_metrics():
        if text in (m.label, f"12345{m.label}", f"12345 {m.label}"):
            return m.name
    raise CellError(f"统计模块中没有该指标：{text}")


def _weight(value):
    d = _number("权重")(value)
    if d is not None and not Decimal(0) <= d < Decimal(10000):
        raise CellError(f"权重应为 0–9999：{value}")
    return d


CATALOGUE_FIELDS = (
    text_field("street", "街道", ("街道名称", "镇街"), required=True, max_length=100),
    integer_field("year", "年度", ("年份", "考核年度"), required=True, min_value=2000, max_value=2100),
    integer_field("seq", "序号", ("指标序号", "编号"), required=True, min_value=1, max_value=999),
    text_field("name", "指标名称", ("指标", "考核指标", "名称"), required=True, max_length=100),
    text_field("unit", "单位", ("计量单位",), max_length=20),
    Field("basis", "口径", ("统计口径", "类型"), parse=_basis),
    Field("target_total", "目标总量", ("目标任务总量", "总量目标", "总量"), parse=_number("目标总量")),
    Field(
        "target_growth",
        "目标增幅",
        ("目标任务增幅", "增幅目标", "增幅", "目标值(%)"),
        parse=_number("目标增幅", percent=True),
    ),
    text_field("department", "责任科室", ("责任部门", "牵头科室", "科室"), max_length=50),
    text_field("leader", "分管领导", ("责任领导", "联系领导"), max_length=30),
    Field("higher", "方向", ("指标方向", "正逆向"), parse=_direction),
    Field("weight", "权重", ("分值", "权重分"), parse=_weight),
    Field("metric", "平台指标", ("平台计算指标", "统计指标"), parse=_metric),
)


def _clean_catalogue(number: int, values: dict) -> dict:
    name = (values.get("street") or "").strip()
    street = Street.objects.filter(name=name).first() or Street.objects.filter(code=name).first()
    if street is None:
        raise RowError(f"找不到街道：{name}")
    values["street_id"], values["street"] = street.pk, street.name
    if values.get("basis") is None:
        values["basis"] = Basis.TOTAL
    if values.get("higher") is None:
        values["higher"] = True
    values["key"] = f"{street.code}/{values['year']}/{values['seq']}"
    return values


def _describe_catalogue(values: dict) -> dict[str, str]:
    return {"指标": f"{values['seq']}. {values['name']}", "年度": f"{values['street']}{values['year']}年"}


CATALOGUE_COLUMNS = (
    "name",
    "unit",
    "basis",
    "target_total",
    "target_growth",
    "department",
    "leader",
    "higher_is_better",
    "weight",
    "source",
    "metric",
)


def _apply_catalogue(values: dict, ctx: ApplyContext) -> int:
    if not place_selectors.same_tier(ctx.actor, values["street_id"]):
        raise RowError(f"街道不在您的辖区：{values['street']}")
    metric = values.get("metric") or ""
    wanted = {
        "name": values["name"],
        "unit": values.get("unit") or "",
        "basis": values["basis"],
        "target_total": values.get("target_total"),
        "target_growth": values.get("target_growth"),
        "department": values.get("department") or "",
        "leader": values.get("leader") or "",
        "higher_is_better": values["higher"],
        "weight": values["weight"] if values.get("weight") is not None else Decimal(1),
        "source": Source.COMPUTED if metric else Source.IMPORTED,
        "metric": metric,
    }
    with transaction.atomic():
        card, made = Scorecard.objects.get_or_create(street_id=values["street_id"], year=values["year"])
        if made:
            audit.record(
                actor=ctx.actor, action="goals.catalogue.import", obj=card, after={"年度": card.year}
            )
        ind = Indicator.objects.select_for_update().filter(scorecard=card, seq=values["seq"]).first()
        before = audit.snapshot(ind, list(CATALOGUE_COLUMNS)) if ind else None
        ind = ind or Indicator(scorecard=card, seq=values["seq"])
        for k, v in wanted.items():
            setattr(ind, k, v)
        try:
            ind.full_clean(exclude=["scorecard"])
        except ValidationError as exc:
            raise RowError("；".join(m for ms in exc.message_dict.values() for m in ms)) from None
        ind.save()
        ind.refresh_from_db()
        after = audit.snapshot(ind, list(CATALOGUE_COLUMNS))
        b, a = audit.diff(before, after) if before else (None, after)
        if before is None or a:
            audit.record(actor=ctx.actor, action="goals.catalogue.import", obj=ind, before=b, after=a)
    return ind.pk


CATALOGUE_SPEC = register_spec(
    ImportSpec(
        name="goals.catalogue",
        label="考核指标目录",
        fields=CATALOGUE_FIELDS,
        key_field="seq",
        key_label="序号",
        row_key=lambda values: values["key"],
        key_help="街道、年度、序号相同的行对应同一项指标：再导一次不产生变化，更正后的行更新该指标",
        clean=_clean_catalogue,
        describe=_describe_catalogue,
        apply_row=_apply_catalogue,
        can_import=_can_import,
    )
)
