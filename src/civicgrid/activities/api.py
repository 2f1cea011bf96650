"""Activities API (/api/v1/activities): the 活动 list (filters as on the page) and the report figures of a period
(:func:`civicgrid.activities.selectors.report_figures`). Scoping is the pages' (selectors); read only."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from ninja import Query, Router, Schema
from pydantic import Field, model_validator

from civicgrid.activities import selectors
from civicgrid.activities.models import ActivityKind
from civicgrid.core.errors import PermissionDenied
from civicgrid.core.validation import Id, Text

router = Router(tags=["活动台账·应急预案·志愿者"])


def _user(request):
    user = request.auth
    if not selectors.can_view(user):
        raise PermissionDenied("当前角色不能查看活动台账", code="forbidden")
    return user


class ActivityOut(Schema):
    id: int
    kind: str
    kind_label: str
    name: str
    date: date
    end_date: date | None
    place: str
    organiser: str
    community: int | None
    sessions: int
    attendance: int
    households: int
    materials: int


class ActivityQuery(Schema):
    kind: str = Field("", pattern=r"^(|" + "|".join(ActivityKind.values) + ")$")
    community: Id | None = None
    start: date | None = None
    end: date | None = None
    q: Text = Field("", max_length=50)
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=1_000_000)


@router.get("/items", response=list[ActivityOut], summary="活动列表")
def list_activities(request, q: Query[ActivityQuery]):
    user = _user(request)
    rows = selectors.activity_rows(
        user=user, kind=q.kind, community=q.community, start=q.start, end=q.end, q=q.q
    )
    return [
        {
            "id": a.pk,
            "kind": a.kind,
            "kind_label": a.get_kind_display(),
            "name": a.name,
            "date": a.date,
            "end_date": a.end_date,
            "place": a.place,
            "organiser": a.organiser,
            "community": a.community_id,
            "sessions": a.sessions,
            "attendance": a.attendance,
            "households": a.households,
            "materials": a.materials,
        }  # fmt: skip
        for a in rows[q.offset : q.offset + q.limit]
    ]


class ActivityKindFiguresOut(Schema):
    kind: str
    label: str
    count: int = Field(description="活动数")
    sessions: int = Field(description="场次 = Σ场次")
    attendance: int = Field(description="人次 = Σ人次")
    households: int = Field(description="户数 = Σ户数")
    materials: int = Field(description="发放资料 = Σ份数")


class ActivityFiguresOut(Schema):
    start: date
    end: date
    activities: list[ActivityKindFiguresOut]
    total: ActivityKindFiguresOut
    volunteer_hours: Decimal = Field(description="志愿服务时长 = 期间内时间银行存入小时之和")
    volunteer_hours_spent: Decimal
    volunteers: int
    plans: int = Field(description="预案数（印发日期不晚于期末）")
    plans_overdue: int = Field(description="期末逾期未复核的预案数")


class FiguresQuery(Schema):
    start: date = Field(..., description="期间开始（含）")
    end: date = Field(..., description="期间结束（含）")

    @model_validator(mode="after")
    def _order(self):
        if self.end < self.start:
            raise ValueError("end 不得早于 start")
        return self


@router.get("/figures", response=ActivityFiguresOut, summary="工作总结用的台账数字")
def figures(request, q: Query[FiguresQuery]):
    user = _user(request)
    f = selectors.report_figures(user=user, start=q.start, end=q.end)
    return {
        **f,
        "activities": [{"kind": k, **v} for k, v in f["activities"].items()],
        "total": {"kind": "", "label": "合计", **f["activities_total"]},
    }
