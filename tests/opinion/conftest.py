from __future__ import annotations

from datetime import timedelta

import pytest

from civicgrid.cases import services as case_services
from civicgrid.core import clock
from civicgrid.opinion import services
from tests.cases.factories import World


class OpinionWorld(World):
    """The cases' small 街道; the desk's accounts belong to its 街道 (a 舆情 takes the desk's 街道)."""

    def __init__(self):
        super().__init__()
        street = self.grid.community.street
        for u in (self.dispatcher, self.shift_leader):
            u.street = street
            u.save()

    def register(self, *, actor=None, platform="weibo", media="@示范生活圈", **kw):
        return services.register_opinion(
            actor=actor or self.dispatcher,
            platform=platform,
            media_name=media,
            title=kw.pop("title", "网友反映示范路夜间施工噪声扰民"),
            url=kw.pop("url", "https://weibo.com/1234567890/AbCdEf"),
            **kw,
        )

    def act(self, case, name, actor=None, **kw):
        case.refresh_from_db()
        return case_services.perform(
            actor=actor or self.dispatcher, case=case, move=name, version=case.version, **kw
        )

    def full(self, *, at=None, level="general", respond=True, conclude=True):
        """One 舆情 collected at ``at`` and driven through 研判 → 处置 → 回应 → 办结 (an hour a step)."""
        at = at or clock.now() - timedelta(days=3)
        with clock.frozen(at):
            case = self.register()
        steps = [("assess", {"detail": {"level": level, "assessment": "涉及民生，需核实回应"}})]
        steps.append(("assign_handling", {"department": self.dept, "amount": 1, "unit": "natural_days"}))
        steps.append(
            ("report_handled", {"actor": self.handler, "note": "已核实", "detail": {"actions": "责令停工"}})
        )
        if respond:
            steps.append(
                (
                    "respond",
                    {"detail": {"response_text": "已责令施工方夜间停工", "response_channel": "官方微博"}},
                )
            )
        if conclude:
            steps.append(("conclude", {}))
        for i, (name, kw) in enumerate(steps, start=1):
            with clock.frozen(at + timedelta(hours=i)):
                case = self.act(case, name, **kw)
        return case


@pytest.fixture
def ow(db) -> OpinionWorld:
    return OpinionWorld()
