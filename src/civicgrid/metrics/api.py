"""统计指标 API (/api/v1/stats/): the case figures of a period, scoped to the caller (docs/metrics.md).

``GET /api/v1/stats/?from=2026-06-01&to=2026-06-30&street=110105001&by=community`` — the same JSON as
``civicgrid stats --json``; ``GET /api/v1/stats/definitions`` — the definition registry.
A bad date, an unknown ``by`` or a 街道 outside the caller's tier is a 400 naming the field.
"""

from __future__ import annotations

from django.http import JsonResponse
from ninja import Field, Query, Router, Schema

from civicgrid.metrics import registry, selectors

router = Router(tags=["统计指标"])


class StatsQuery(Schema):
    from_: str | None = Field(None, alias="from", description="开始日期（含）YYYY-MM-DD，默认本月 1 日")
    to: str | None = Field(None, description="结束日期（含）YYYY-MM-DD，默认今天")
    street: str | None = Field(None, description="街道编码（须在本人辖区内）")
    by: str | None = Field(None, description="分组：" + "|".join(selectors.BY))


def _figure_fields() -> dict:
    fields = {}
    for m in registry.all_metrics():
        typ = int if m.kind == registry.COUNT else float | None
        fields[m.name] = (typ, Field(description=f"{m.label}（{m.unit}）：{m.formula}"))
    for name in registry.RAW_COUNTERS:
        fields[name] = (int, Field(description=f"计数 {name}（见 docs/metrics.md）"))
    return fields


# the fields come from the registry (one definition): a count is an int, a rate or an average a float or null
StatsFiguresOut = type(
    "StatsFiguresOut",
    (Schema,),
    {
        "__annotations__": {k: t for k, (t, _) in _figure_fields().items()},
        **{k: f for k, (_, f) in _figure_fields().items()},
    },
)


class StatsPeriodOut(Schema):
    from_: str = Field(alias="from")
    to: str
    days: int


class StatsDatedFiguresOut(StatsFiguresOut):
    from_: str = Field(alias="from")
    to: str


class StatsChangeOut(Schema):
    mom: dict[str, float | None] = Field(description="环比：计数与平均为变化 %，比率为百分点")
    yoy: dict[str, float | None] = Field(description="同比：计数与平均为变化 %，比率为百分点")


class StatsGroupOut(StatsFiguresOut):
    key: str
    label: str


class StatsOut(Schema):
    period: StatsPeriodOut
    street: str | None
    by: str | None
    totals: StatsFiguresOut
    previous: StatsDatedFiguresOut
    last_year: StatsDatedFiguresOut
    change: StatsChangeOut
    groups: list[StatsGroupOut]


class MetricDefinitionOut(Schema):
    name: str
    label: str
    kind: str
    unit: str
    formula: str
    period: str
    numerator: str
    denominator: str | None


@router.get("/", response=StatsOut, by_alias=True, summary="工单统计指标")
def get_stats(request, q: Query[StatsQuery]):
    start, end = selectors.parse_period(q.from_, q.to)
    data = selectors.stats(user=request.auth, start=start, end=end, street_code=q.street, by=q.by)
    # already in StatsOut's shape (tests/metrics/test_api_cli.py): sent as is — validating hundreds of group rows
    # through the schema cost more than the query on the 区/全市 views (bench/bench_dashboard.py)
    return JsonResponse(data, json_dumps_params={"ensure_ascii": False})


@router.get("/definitions", response=list[MetricDefinitionOut], summary="指标定义")
def get_definitions(request):
    selectors.scope_q(request.auth)  # who may see figures may read their definitions
    return selectors.definitions()
