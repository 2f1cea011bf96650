"""舆情 API (/api/v1/opinion): the ledger (list, one 舆情), 登记, the figures. The moves are the case API's
(``POST /api/v1/cases/{id}/assess`` …, generated from the procedure)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Literal

from ninja import Query, Router, Schema, Status
from pydantic import Field

from civicgrid.accounts.roles import Capability, has_capability
from civicgrid.core import clock
from civicgrid.core.errors import PermissionDenied, ValidationFailed
from civicgrid.core.validation import Id, Text
from civicgrid.opinion import metrics, selectors, services
from civicgrid.opinion.models import OpinionDetail, Platform

router = Router(tags=["舆情"])


def _user(request):
    user = request.auth
    if not has_capability(user, Capability.BUSINESS_VIEW):
        raise PermissionDenied("当前角色不能查看舆情", code="forbidden")
    return user


class OpinionPeriodQuery(Schema):
    start: date | None = Field(None, description="开始日期（含），默认本月 1 日")
    end: date | None = Field(None, description="结束日期（含），默认今天")


class SplitOut(Schema):
    key: str
    label: str
    collected: int
    concluded: int
    rate: float | None


class OpinionFiguresOut(Schema):
    start: date
    end: date
    collected: int = Field(description="收集数（按收集时间）")
    concluded: int = Field(description="办结数：期内收集、到期末已办结（含无需处置）")
    conclude_rate: float | None = Field(description="办结率 % = 办结数 / 收集数")
    responded: int = Field(description="回应数：期内收集、到期末已公开回应")
    by_level: list[SplitOut]
    by_platform: list[SplitOut]


@router.get("/figures", response=OpinionFiguresOut, summary="舆情统计")
def get_figures(request, q: Query[OpinionPeriodQuery]):
    user = _user(request)
    end = q.end or clock.local_now().date()
    start = q.start or end.replace(day=1)
    if start > end or (end - start) > timedelta(days=3660):
        raise ValidationFailed("统计期不合法（开始不晚于结束，且不超过 10 年）", field="start")
    return metrics.figures(user=user, start=start, end=end).as_dict()


class OpinionOut(Schema):
    id: int
    number: str | None
    state: str
    state_label: str
    description: str
    platform: str
    media_name: str
    url: str
    published_at: datetime | None
    collected_at: datetime
    level: str
    assessment: str
    department: str | None
    actions: str
    response_text: str
    response_channel: str
    responded_at: datetime | None
    concluded_at: datetime | None
    external_ref: str
    due_at: datetime | None


def _out(d: OpinionDetail) -> dict:
    c = d.case
    return {
        "id": c.pk,
        "number": c.number,
        "state": c.state,
        "state_label": c.get_state_display(),
        "description": c.description,
        "platform": d.platform,
        "media_name": d.media_name,
        "url": d.url,
        "published_at": d.published_at,
        "collected_at": d.collected_at,
        "level": d.level,
        "assessment": d.assessment,
        "department": c.department.name if c.department_id else None,
        "actions": d.actions,
        "response_text": d.response_text,
        "response_channel": d.response_channel,
        "responded_at": d.responded_at,
        "concluded_at": d.concluded_at,
        "external_ref": d.external_ref,
        "due_at": c.due_at,
    }


class OpinionListQuery(Schema):
    state: str = Field("", max_length=16)
    level: Literal["", "general", "serious", "major"] = ""
    platform: str = Field("", max_length=10)
    q: Text = Field("", max_length=60)
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=1_000_000)


@router.get("/items", response=list[OpinionOut], summary="舆情台账")
def list_items(request, q: Query[OpinionListQuery]):
    qs = selectors.rows(user=_user(request), state=q.state, level=q.level, platform=q.platform, text=q.q)
    return [_out(d) for d in qs[q.offset : q.offset + q.limit]]


@router.get("/items/{case_id}", response=OpinionOut, summary="一条舆情")
def get_item(request, case_id: Id):
    return _out(selectors.get_row(user=_user(request), case_id=case_id))


class OpinionRegisterIn(Schema):
    platform: Literal[tuple(Platform.values)]  # type: ignore[valid-type]
    media_name: Text = Field(..., max_length=100)
    title: Text = Field(..., max_length=500)
    content: Text = Field("", max_length=4000)
    url: Text = Field("", max_length=500)
    published_at: datetime | None = Field(None, description="发布时间（带时区）")


@router.post("/items", response={201: OpinionOut}, summary="登记舆情")
def register(request, body: OpinionRegisterIn):
    user = _user(request)
    case = services.register_opinion(
        actor=user,
        platform=body.platform,
        media_name=body.media_name,
        title=body.title,
        content=body.content,
        url=body.url,
        published_at=body.published_at,
    )
    return Status(201, _out(selectors.rows(user=user).get(case_id=case.pk)))
