from __future__ import annotations

from datetime import date

import pytest

from civicgrid.core import clock
from civicgrid.disputes import defaults, services
from civicgrid.disputes.models import DisputeType, MediationOrg, OrgKind
from civicgrid.disputes.services import PartyIn
from tests.cases.factories import World


class DisputeWorld(World):
    """The cases' small 街道 plus the seeded 纠纷类型 and three 调解组织 (街道调委会, the community's 调委会, a
    品牌调解室)."""

    def __init__(self):
        defaults.ensure()  # (a transactional test elsewhere may have flushed the seeded list)
        super().__init__()
        self.street = self.community.street
        self.types = {t.code: t for t in DisputeType.objects.all()}
        self.street_org = MediationOrg.objects.create(
            name="示范街道人民调解委员会", street=self.street, kind=OrgKind.STREET
        )
        self.community_org = MediationOrg.objects.create(
            name="示范社区人民调解委员会",
            street=self.street,
            community=self.community,
            kind=OrgKind.COMMUNITY,
        )
        self.studio = MediationOrg.objects.create(
            name="老娘舅工作室", street=self.street, kind=OrgKind.STUDIO
        )

    def register(self, *, actor=None, source="application", type_code="neighbour", org=None, **kw):
        parties = kw.pop(
            "parties",
            [
                PartyIn("applicant", "张建国", "13812345678", "示范路1号"),
                PartyIn("respondent", "李秀英", "13987654321"),
            ],
        )
        return services.register_dispute(
            actor=actor or self.dispatcher,
            source=source,
            dispute_type=self.types[type_code],
            org=org or self.street_org,
            description=kw.pop("description", "楼上漏水致楼下天花板受损，双方就赔偿金额争执不下"),
            grid=kw.pop("grid", self.grid),
            parties=parties,
            **kw,
        )

    def session(self, case, *, actor=None, held_on: date | None = None, **kw):
        return services.record_session(
            actor=actor or self.dispatcher,
            case=case,
            held_on=held_on or clock.local_now().date(),
            mediators=kw.pop("mediators", "王调解、陈调解"),
            notes=kw.pop("notes", "召集双方面对面调解，释明法律规定"),
        )

    def mediate(self, *, outcome: str = "settle", actor=None, **kw):
        """A dispute 受理, one session, then ``outcome`` (settle / settle_fail / terminate / "" for none)."""
        actor = actor or self.dispatcher
        case = self.register(actor=actor, **kw)
        case = self.move(case, "admit", actor, amount=30, unit="natural_days")
        if outcome in ("settle", "settle_fail"):
            self.session(case, actor=actor)
        if outcome == "settle":
            case = self.move(
                case, "settle", actor, detail={"agreement_terms": "李秀英赔偿张建国维修费 3000 元"}
            )
        elif outcome == "settle_fail":
            case = self.move(case, "settle_fail", actor, reason="双方差距过大")
        elif outcome == "terminate":
            case = self.move(case, "terminate", actor, reason="当事人起诉至法院")
        return case


@pytest.fixture
def dw(db) -> DisputeWorld:
    return DisputeWorld()
