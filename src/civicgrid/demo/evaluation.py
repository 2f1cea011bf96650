"""The demo 街道's 行政问效: a year of monthly 红黑榜 (部门, 社区, 网格, 网格员; published by the 值班长 at the start of
the next month; last month's 社区 board waits for review and its 网格员 board is still a draft), the 街道's
stored weights, and a year of 城市长效管理考核 results (score and rank among the 区's 12 街道) for every 街道 of the
区. The rankings are computed from the metrics rollup (brought up to date first) exactly as the services do;
boards are inserted in bulk with one audit row. Idempotent (skipped when the 街道 already has boards)."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import transaction

DAYS = 365
KINDS = ("department", "community", "grid", "grid_worker")


def _months(today: date, n: int) -> list[date]:
    first = today.replace(day=1)
    out = []
    for _ in range(n):
        first = (first - timedelta(days=1)).replace(day=1)
        out.append(first)
    return sorted(out)


def load_evaluation(
    street, rng: random.Random, *, staff=None, log: Callable[[str], None] = lambda m: None, days: int = DAYS,
    scale: float = 1.0,
) -> dict | None:  # fmt: skip
    from civicgrid.accounts.models import User
    from civicgrid.core import audit, clock
    from civicgrid.evaluation import selectors
    from civicgrid.evaluation.models import Assessment, Board, BoardState, EvaluationSettings
    from civicgrid.metrics import services as metrics_services
    from civicgrid.places.models import Street

    if Board.objects.filter(street=street).exists():
        log("演示红黑榜已存在，跳过。")
        return None
    desk = User.objects.filter(username="dispatcher", street=street).first()
    chief = User.objects.filter(username="zhibanzhang", street=street).first()
    if desk is None or chief is None:
        return None
    metrics_services.refresh()  # the rankings read the rollup
    today = clock.local_now().date()
    months = _months(today, max(1, min(12, round(days / 30.5))))
    workers = selectors.grid_worker_scores_by_month(street=street, months=months)
    boards = []
    for i, month in enumerate(months):
        last = i == len(months) - 1
        for kind in KINDS:
            r = selectors.compute_ranking(
                kind, start=month, end=selectors.month_end(month), street=street, worker_rows=workers[month]
            )
            nxt = selectors.month_end(month) + timedelta(days=1)
            drafted = datetime.combine(nxt + timedelta(days=1), time(9, 30), tzinfo=clock.SHANGHAI)
            published = datetime.combine(nxt + timedelta(days=3), time(16, 0), tzinfo=clock.SHANGHAI)
            state = BoardState.PUBLISHED
            if last and kind == "community":
                state = BoardState.REVIEW
            elif last and kind == "grid_worker":
                state = BoardState.DRAFT
            if state != BoardState.PUBLISHED or published > clock.now():
                published = None
                state = BoardState.REVIEW if state == BoardState.PUBLISHED else state
            boards.append(
                Board(
                    kind=kind,
                    month=month,
                    street=street,
                    state=state,
                    size=r.size,
                    min_cases=r.min_cases,
                    weights=r.weights,
                    rows=r.rows,
                    apart=r.apart,
                    red=r.red,
                    black=r.black,
                    drafted_by=desk,
                    drafted_at=min(drafted, clock.now()),
                    computed_at=min(drafted, clock.now()),
                    submitted_at=min(drafted + timedelta(hours=2), clock.now())
                    if state != BoardState.DRAFT
                    else None,
                    reviewed_by=chief if published else None,
                    published_at=published,
                    version={BoardState.DRAFT: 1, BoardState.REVIEW: 2}.get(state, 3),
                )
            )
    streets = list(Street.objects.filter(district_id=street.district_id).order_by("code")) or [street]
    assessments = []
    for s in streets:
        base = 88.0 + (4.0 if s.pk == street.pk else rng.uniform(-3, 2))
        for month in months:
            score = round(min(99.5, max(70.0, base + rng.gauss(0, 1.6))), 2)
            rank = 2 if s.pk == street.pk and rng.random() < 0.6 else rng.randint(1, 12)
            assessments.append(
                Assessment(
                    street=s,
                    name="城市长效管理考核",
                    month=month,
                    score=Decimal(str(score)),
                    rank=rank,
                    total=12,
                    source="imported",
                    updated_by=chief,
                )
            )
    with transaction.atomic():
        EvaluationSettings.objects.get_or_create(
            street=street,
            defaults={"w_response": 30, "w_resolve": 35, "w_satisfaction": 35, "updated_by": chief},
        )
        Board.objects.bulk_create(boards)
        existing = set(
            Assessment.objects.filter(street__in=streets, name="城市长效管理考核").values_list(
                "street_id", "month"
            )
        )
        Assessment.objects.bulk_create([a for a in assessments if (a.street_id, a.month) not in existing])
        audit.record(
            actor=None,
            action="evaluation.board.draft",
            object_type="evaluation.board",
            object_repr=f"演示数据：{street.name} {len(boards)} 张红黑榜、{len(assessments)} 条上级考核结果",
        )
    log(f"已生成 {len(boards)} 张红黑榜（{len(months)} 个月）和 {len(assessments)} 条城市长效管理考核结果。")
    return {
        "boards": len(boards),
        "published": sum(1 for b in boards if b.state == BoardState.PUBLISHED),
        "assessments": len(assessments),
        "months": len(months),
    }
