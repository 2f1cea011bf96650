"""舆情 through the case engine: 登记 with a validated link; 研判 (一般/较大/重大) → 交办处置 within the level's
处置时限 → 处置情况 → 回应 → 办结; 无需处置; who sees it."""

from __future__ import annotations

import pytest

from civicgrid.cases import selectors as case_selectors
from civicgrid.cases.models import Case
from civicgrid.core.errors import PermissionDenied, ValidationFailed
from civicgrid.opinion.models import OpinionDetail

pytestmark = pytest.mark.django_db


def test_registering_a_post_records_where_it_was_published(ow):
    case = ow.register()
    assert (
        case.procedure == "opinion" and case.state == "collected" and case.source == "media" and case.number
    )
    d = OpinionDetail.objects.get(case=case)
    assert d.platform == "weibo" and d.media_name == "@示范生活圈" and d.url.startswith("https://weibo.com/")
    assert d.collected_at == case.created_at and d.street_id == ow.grid.community.street_id


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"url": "javascript:alert(1)"}, "url"),
        ({"url": "ftp://example.com/x"}, "url"),
        ({"url": "weibo.com/abc"}, "url"),
        ({"media": "  "}, "media_name"),
        ({"platform": "tv"}, "platform"),
        ({"title": ""}, "title"),
    ],
)
def test_bad_input_is_refused_naming_the_field(ow, kw, field):
    with pytest.raises(ValidationFailed) as e:
        ow.register(**kw)
    assert e.value.field == field
    assert not Case.objects.filter(procedure="opinion").exists()


def test_only_the_desk_registers(ow):
    for user in (ow.grid_worker, ow.handler, ow.leader):
        with pytest.raises(PermissionDenied):
            ow.register(actor=user)


def test_the_whole_life_cycle(ow):
    case = ow.full(level="serious")
    assert case.state == "closed"
    d = OpinionDetail.objects.get(case=case)
    assert d.level == "serious" and d.actions == "责令停工" and d.response_text.startswith("已责令")
    assert d.assessed_at < d.handled_at < d.responded_at < d.concluded_at == case.closed_at
    moves = list(case.events.order_by("seq").values_list("move", flat=True))
    assert moves == ["create", "assess", "assign_handling", "report_handled", "respond", "conclude"]


def test_the_handling_limit_depends_on_the_level(ow):
    case = ow.act(ow.register(), "assess", detail={"level": "major", "assessment": "涉及安全，迅速处置"})
    with pytest.raises(ValidationFailed) as e:
        ow.act(case, "assign_handling", department=ow.dept, amount=3, unit="natural_days")
    assert e.value.field == "amount" and "1 到 1" in e.value.message
    case = ow.act(case, "assign_handling", department=ow.dept, amount=1, unit="natural_days")
    assert case.stage == "handle" and case.limit_amount == 1 and case.department == ow.dept
    case = ow.act(case, "report_handled", actor=ow.handler, detail={"actions": "现场处置"})
    assert case.stage == "respond" and case.limit_amount == 2


def test_dismissed_after_assessment(ow):
    case = ow.act(ow.register(), "dismiss", reason="经核实为外地旧闻，与本街道无关")
    assert case.state == "dismissed" and OpinionDetail.objects.get(case=case).concluded_at is not None


def test_visibility(ow):
    case = ow.full(conclude=False)
    for user in (ow.dispatcher, ow.leader, ow.handler):
        assert case_selectors.visible_cases(user=user).filter(pk=case.pk).exists()
    for user in (ow.grid_worker, ow.community_staff, ow.handler2):
        assert not case_selectors.visible_cases(user=user).filter(pk=case.pk).exists()
