from __future__ import annotations

from datetime import timedelta

import pytest

from civicgrid.cases import services as case_services
from civicgrid.core import clock
from civicgrid.enforcement import defaults, services
from civicgrid.enforcement.models import ViolationType
from tests.cases.factories import World


class EnforcementWorld(World):
    """The cases' small 街道 (城管中队 = ``dept``, its 执法队员 = ``handler``) with the seeded 违法行为类型."""

    def __init__(self):
        defaults.ensure()  # (a transactional test elsewhere may have flushed the seeded lists)
        super().__init__()
        self.types = {t.code: t for t in ViolationType.objects.all()}

    def register(self, *, actor=None, party="李某", kind="person", type_code="street_vending", **kw):
        return services.register_case(
            actor=actor or self.dispatcher,
            party=services.Party(name=party, kind=kind, contact=kw.pop("contact", "13800138000")),
            violation_type=self.types[type_code],
            description=kw.pop("description", "在示范路人行道上摆摊经营"),
            department=kw.pop("department", self.dept),
            grid=kw.pop("grid", self.grid),
            address=kw.pop("address", "示范路8号"),
            **kw,
        )

    def act(self, case, name, actor=None, **kw):
        case.refresh_from_db()
        return case_services.perform(
            actor=actor or self.handler, case=case, move=name, version=case.version, **kw
        )

    def general_case(self, *, at=None, fine="5000", area=None, sites=None, type_code="illegal_building"):
        """One 一般程序 case driven to 结案, each step a day later, starting at ``at``."""
        at = at or clock.now() - timedelta(days=10)
        with clock.frozen(at):
            case = self.register(type_code=type_code, party="某某公司", kind="unit")
        with clock.frozen(at + timedelta(hours=2)):
            case = self.act(case, "file_case", detail={"violation_type": self.types[type_code].pk})
        with clock.frozen(at + timedelta(days=1)):
            case = self.act(case, "notify_rights", note="送达行政处罚告知书")
        with clock.frozen(at + timedelta(days=2)):
            case = self.act(
                case,
                "decide",
                detail={
                    "legal_basis": "《城乡规划法》第六十四条",
                    "penalty": "限期拆除并罚款",
                    "decision_no": f"执罚〔2026〕{case.pk}号",
                    "rights_response": "statement",
                    "fine_amount": fine,
                },
            )
        with clock.frozen(at + timedelta(days=3)):
            detail = {"demolished_area": area or "0", "demolished_sites": sites or 0}
            case = self.act(case, "execute", note="已拆除并缴纳罚款", detail=detail)
        with clock.frozen(at + timedelta(days=4)):
            case = self.act(case, "close_case", note="结案")
        return case

    def simple_case(self, *, at=None, fine="100", type_code="street_vending"):
        at = at or clock.now() - timedelta(days=5)
        with clock.frozen(at):
            case = self.register(type_code=type_code)
        with clock.frozen(at + timedelta(minutes=30)):
            case = self.act(
                case,
                "summary_penalty",
                detail={
                    "violation_type": self.types[type_code].pk,
                    "legal_basis": "《城市市容和环境卫生管理条例》第三十六条",
                    "penalty": "罚款",
                    "decision_no": f"当场〔2026〕{case.pk}号",
                    "fine_amount": fine,
                },
            )
        return case


@pytest.fixture
def ew(db) -> EnforcementWorld:
    return EnforcementWorld()
