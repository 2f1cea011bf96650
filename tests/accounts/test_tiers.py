"""Tiers (区 → 街道): two 街道 in one 区 share a database and never see each other's rows.

The story: 西湖区 holds 甲街道 (A) and 乙街道 (B). Each has a community, a grid, a building, a unit, a department,
a person in every role, a case (with a photo, dispatched to its own department) and the bookkeeping around it (a
notification, an import job, a placement task, an export job, an Open311 key and a 群机器人 push). A's people walk
every URL of the project — discovered from the URL conf, so a new endpoint is covered or this test fails naming
it — and never meet B's rows (by number, name or code, in HTML, JSON, GeoJSON or Excel); B's detail pages answer
them 404. The 区 level (区指挥中心, 区领导) sees both 街道. Service-level tests pin down what each tier may change.
"""

from __future__ import annotations

import contextlib
import html
import io
import json
import zipfile
from pathlib import Path

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from civicgrid.accounts.models import User
from civicgrid.accounts.roles import Role
from civicgrid.cases import selectors as case_selectors
from civicgrid.cases import services as case_services
from civicgrid.cases.models import Case, Notification
from civicgrid.core.errors import NotFound, PermissionDenied, ValidationFailed
from civicgrid.places.models import District
from tests.cases.factories import CategoryFactory, photo
from tests.factories import (
    PASSWORD,
    BuildingFactory,
    CommunityFactory,
    DepartmentFactory,
    GridFactory,
    StreetFactory,
    UnitFactory,
    UserFactory,
)

ROLES = [r for r in Role if r != Role.AUDIT_ADMIN] + [Role.AUDIT_ADMIN]


class Side:
    """One 街道 with everything in it. ``tag`` (甲/乙) marks every name, so a leak is visible as text."""

    def __init__(self, *, tag: str, code: str, col: int, category):
        self.tag = tag
        self.street = StreetFactory(code=code, name=f"{tag}街道", division_code="330106")
        self.community = CommunityFactory(street=self.street, name=f"{tag}专属社区")
        self.grid = GridFactory(
            community=self.community, col=col, name=f"{tag}专属网格", code=f"{code}{col:06d}"
        )
        self.building = BuildingFactory(grid=self.grid, name=f"{tag}专属大厦", address=f"{tag}专属路1号")
        self.unit = UnitFactory(grid=self.grid, name=f"{tag}专属商户", address=f"{tag}专属路2号")
        self.dept = DepartmentFactory(code=f"DEPT{tag}X", name=f"{tag}专属城管", street=self.street)
        self.users = {}
        for role in Role:
            extra = {}
            if role == Role.DEPT_HANDLER:
                extra["department"] = self.dept
            if role == Role.COMMUNITY_STAFF:
                extra["community"] = self.community
            if role == Role.GRID_WORKER:
                extra["grids"] = [self.grid]
            self.users[role] = UserFactory(
                username=f"u{code}_{role}",
                full_name=f"{tag}专属{Role(role).label[:4]}",
                role=role,
                street=self.street,
                **extra,
            )
        dispatcher = self.users[Role.DISPATCHER]
        case = case_services.create_case(
            actor=dispatcher,
            source="dispatcher",
            description=f"{tag}专属诉求内容",
            category=category,
            grid=self.grid,
            attachments=[photo(f"{tag}.png")],
        )
        case = case_services.perform(actor=dispatcher, case=case, move="accept", version=case.version)
        self.case = case_services.perform(
            actor=dispatcher, case=case, move="dispatch", version=case.version, department=self.dept
        )
        self.attachment = self.case.attachments.first()
        from civicgrid.cases.notifications import (
            notify,
        )  # (on commit in the services; the test never commits)

        notify(
            users=[self.users[Role.DEPT_HANDLER]], case=self.case, kind="dispatched", text=f"{tag}专属通知"
        )
        self.notification = Notification.objects.get(user=self.users[Role.DEPT_HANDLER], case=self.case)
        self._bookkeeping(dispatcher, code)
        self._hazards(code)
        self._gridwork(code)
        from civicgrid.triage import services as triage_services

        self.triage_suggestion = triage_services.suggest_for_case(actor=dispatcher, case=self.case)
        from civicgrid.triage.models import DuplicateCandidate

        # (a pair of the case with itself: the walk needs a row of this 街道, not a second case)
        self.duplicate = DuplicateCandidate.objects.create(
            case=self.case, candidate=self.case, score=0.9, reasons={"text_similarity": 0.9}
        )
        self._disputes()
        self._enforcement()
        self._petitions()
        self._goals()
        self._reports()
        self._registers(code)
        self._evaluation()
        self._supervision()
        self._estates(code)
        self._activities()

    def _activities(self) -> None:
        """An activity of the 社区 (with a photo), a 街道 预案 and a volunteer with a 时间银行 entry."""
        from datetime import date

        from civicgrid.activities import services as activity_services

        staff, leader = self.users[Role.COMMUNITY_STAFF], self.users[Role.LEADER]
        self.activity = activity_services.create_activity(
            actor=staff,
            data=activity_services.ActivityData(
                kind="publicity",
                name=f"{self.tag}专属宣传活动",
                date=date(2026, 3, 1),
                place=f"{self.tag}专属广场",
            ),
            photos=[photo(f"{self.tag}活动.png")],
        )
        self.activity_photo = self.activity.photos.get()
        self.plan = activity_services.create_plan(
            actor=leader,
            data=activity_services.PlanData(
                level="overall", name=f"{self.tag}专属总体预案", issued_on=date(2025, 1, 1)
            ),
        )
        self.volunteer = activity_services.create_volunteer(
            actor=staff, data=activity_services.VolunteerData(name=f"{self.tag}专属志愿者")
        )
        activity_services.record_entry(
            actor=staff, volunteer=self.volunteer, day=date(2026, 3, 1), kind="earn", hours=2
        )

    def _evaluation(self) -> None:
        """A June 2026 红黑榜 of the 社区 (drafted by the desk, published by the 值班长) and an assessment result."""
        from civicgrid.evaluation import services as evaluation_services

        self.board = evaluation_services.draft_board(
            actor=self.users[Role.DISPATCHER],
            kind="community",
            month="2026-06",
            note=f"{self.tag}专属红黑榜说明",
        )
        evaluation_services.transition(actor=self.users[Role.DISPATCHER], board=self.board, move="submit")
        self.board = evaluation_services.transition(
            actor=self.users[Role.SHIFT_LEADER], board=self.board, move="publish"
        )
        evaluation_services.save_assessment(
            actor=self.users[Role.LEADER], street=self.street, month="2026-06", score=90 + len(self.tag)
        )

    def _supervision(self) -> None:
        """A 督办 of the case (rows as the 值班长's 督办 leaves them; the engine's move is tested elsewhere) and a
        repeat-address warning about the 街道's own address."""
        from datetime import timedelta

        from civicgrid.core import clock
        from civicgrid.supervision.models import EarlyWarning, Supervision

        self.supervision = Supervision.objects.create(
            street=self.street,
            kind="case",
            case=self.case,
            department=self.dept,
            note=f"{self.tag}专属督办意见",
            due_at=clock.now() + timedelta(days=3),
            created_by=self.users[Role.SHIFT_LEADER],
        )
        self.supervision.items.create(case=self.case)
        self.warning = EarlyWarning.objects.create(
            street=self.street,
            rule="repeat_address",
            subject_key=f"addr:{self.tag}",
            day=clock.to_local(clock.now()).date(),
            title=f"{self.tag}专属路1号",
            message=f"近 30 天同一地址「{self.tag}专属路1号」上报 3 件",
            community=self.community,
            case_ids=[self.case.pk],
        )

    def _estates(self, code: str) -> None:
        """An 出租房 in the building, the building's 楼宇档案 with one 入驻单位 (and a 企业走访), a 专项排查 with
        one target in the grid."""
        from datetime import date

        from civicgrid.estates import services as estate_services
        from civicgrid.estates.models import CampaignTarget

        worker, leader = self.users[Role.GRID_WORKER], self.users[Role.LEADER]
        self.rental = estate_services.save_rental(
            actor=worker, building_id=self.building.pk, room="909", landlord_name=f"{self.tag}专属房东"
        )
        self.building_profile = estate_services.save_building_profile(
            actor=leader, building_id=self.building.pk, is_key=True, leader=f"{self.tag}专属挂钩领导"
        )
        tenant = UnitFactory(grid=self.grid, building=self.building, name=f"{self.tag}专属入驻公司")
        self.enterprise = estate_services.save_enterprise(
            actor=leader, unit_id=tenant.pk, registered_here=True
        )
        estate_services.visit_enterprise(
            actor=worker, enterprise=self.enterprise, notes=f"{self.tag}专属企业走访"
        )
        self.campaign = estate_services.create_campaign(
            actor=leader, code=f"C{code}", name=f"{self.tag}专属排查", kind="gas",
            starts_on=date(2026, 1, 1), ends_on=date(2026, 12, 31),
        )  # fmt: skip
        self.target = CampaignTarget.objects.create(
            campaign=self.campaign,
            street=self.street,
            grid=self.grid,
            key="1",
            name=f"{self.tag}专属排查对象",
        )

    def _registers(self, code: str) -> None:
        """A 户 in the building, a 重点人员 living in it (独居高龄) and a visit of the 网格员 to the 户."""
        from civicgrid.registers import crypto
        from civicgrid.registers import defaults as register_defaults
        from civicgrid.registers import services as register_services

        register_defaults.ensure()
        worker = self.users[Role.GRID_WORKER]
        self.household = register_services.create_household(
            actor=worker, building_id=self.building.pk, room=f"{self.tag}专属室"[:20]
        )
        self.person = register_services.create_person(
            actor=worker,
            data=register_services.PersonInput(
                name=f"{self.tag}专属居民",
                id_number=crypto.with_check_digit(f"33010619500101{code[-3:]}"),
                residence="huji",
                household=self.household,
                tags=("duju",),
            ),
        )
        self.visit = register_services.record_visit(
            actor=worker,
            target_kind="household",
            target_id=self.household.pk,
            method="home",
            notes=f"{self.tag}专属走访情况",
        )

    def _goals(self) -> None:
        """A 考核年度 with one indicator and its September figures, and a 重点项目 with its progress."""
        from decimal import Decimal

        from civicgrid.goals import services as goal_services
        from civicgrid.goals.models import Indicator, Project, Scorecard

        leader = self.users[Role.LEADER]
        self.scorecard = Scorecard.objects.create(street=self.street, year=2026)
        self.indicator = Indicator.objects.create(
            scorecard=self.scorecard, seq=1, name=f"{self.tag}专属考核指标", target_total=Decimal(100)
        )
        goal_services.save_actual(actor=leader, indicator=self.indicator, month=9, ytd_total=80)
        self.project = Project.objects.create(
            street=self.street, year=2026, category="other", name=f"{self.tag}专属重点项目", annual_plan=100
        )
        goal_services.save_progress(actor=leader, project=self.project, month=9, cumulative=70)
        goal_services.save_milestones(
            actor=leader,
            project=self.project,
            rows={"start": {"planned": "2026-03-01", "note": f"{self.tag}专属节点"}},
        )
        self.micro_project = goal_services.create_micro(actor=leader, year=2026, name=f"{self.tag}专属微实事")

    def _reports(self) -> None:
        """A 工作总结 with one version (rows only: the walk reads them, nothing renders) and an uploaded template."""
        from datetime import date

        from civicgrid.core import clock
        from civicgrid.reports.models import Report, ReportTemplate, ReportVersion

        now = clock.now()
        self.report = Report.objects.create(
            street=self.street, start=date(2026, 6, 1), end=date(2026, 6, 30), created_at=now
        )
        self.report_version = ReportVersion.objects.create(
            report=self.report,
            number=1,
            snapshot={"street": self.street.name, "values": {}, "tables": {}, "sections": []},
            docx=f"{self.tag}专属总结".encode(),
            sha256="0" * 64,
            created_at=now,
        )
        self.report_template = ReportTemplate.objects.create(
            street=self.street,
            name=f"{self.tag}专属模板",
            content=b"-",
            sha256="0" * 64,
            size=1,
            uploaded_at=now,
        )

    def _petitions(self) -> None:
        """A 信访 registered by the 街道's desk (its 受理员 on the 信访办), a 协查任务 and a 接待."""
        from civicgrid.petitions import services as petition_services
        from civicgrid.petitions.models import DeskMember

        desk = self.users[Role.DISPATCHER]
        DeskMember.objects.create(user=desk)
        desk.__dict__.pop(
            "_cg_petition_desk", None
        )  # (the per-instance answer cached before it joined the desk)
        self.petition = petition_services.register_petition(
            actor=desk,
            data=petition_services.Registration(
                form="visit",
                summary=f"{self.tag}专属信访事项",
                petitioner_name=f"{self.tag}信访人",
                grid=self.grid,
            ),
        )
        self.petition_task = petition_services.assign_task(
            actor=desk, case=self.petition, assignee=self.users[Role.GRID_WORKER], text=f"{self.tag}专属协查"
        )
        self.reception = petition_services.record_reception(
            actor=desk, received_on=self.petition.created_at.date(), people=2, topic=f"{self.tag}专属接待",
            petition=self.petition,
        )  # fmt: skip

    def _enforcement(self) -> None:
        """A 执法案件 against a party named for the side, and a 舆情."""
        from civicgrid.enforcement import defaults
        from civicgrid.enforcement import services as enforcement_services
        from civicgrid.enforcement.models import ViolationType

        defaults.ensure()
        self.enforcement = enforcement_services.register_case(
            actor=self.users[Role.DISPATCHER],
            party=enforcement_services.Party(name=f"{self.tag}专属当事人"),
            violation_type=ViolationType.objects.get(code="street_vending"),
            description=f"{self.tag}专属执法案情",
            department=self.dept,
            grid=self.grid,
        )
        from civicgrid.opinion import services as opinion_services

        self.opinion = opinion_services.register_opinion(
            actor=self.users[Role.DISPATCHER],
            platform="weibo",
            media_name=f"{self.tag}专属媒体",
            title=f"{self.tag}专属舆情标题",
            grid=self.grid,
        )

    def _disputes(self) -> None:
        """A 矛盾纠纷 of this 街道 (its own 调委会, a party), mediated to 调解成功 so that its 协议书 exists."""
        from civicgrid.disputes import defaults
        from civicgrid.disputes import services as dispute_services
        from civicgrid.disputes.models import DisputeType, MediationOrg

        defaults.ensure()
        desk = self.users[Role.DISPATCHER]
        self.dispute_org = MediationOrg.objects.create(name=f"{self.tag}专属调委会", street=self.street)
        case = dispute_services.register_dispute(
            actor=desk,
            source="application",
            dispute_type=DisputeType.objects.get(code="neighbour"),
            org=self.dispute_org,
            description=f"{self.tag}专属纠纷情况",
            grid=self.grid,
            parties=[dispute_services.PartyIn("applicant", f"{self.tag}专属当事人", "13800001234")],
        )
        case = case_services.perform(
            actor=desk, case=case, move="admit", version=case.version, amount=30, unit="natural_days"
        )
        from civicgrid.core import clock

        dispute_services.record_session(
            actor=desk, case=case, held_on=clock.local_now().date(), mediators="调解员", notes="调解"
        )
        self.dispute = case_services.perform(
            actor=desk, case=case, move="settle", version=case.version, detail={"agreement_terms": "协议"}
        )

    def _hazards(self, code: str) -> None:
        """A 安全隐患 inspection of the unit with one hazard, and the building's 消防设施 register."""
        from civicgrid.hazards import defaults
        from civicgrid.hazards import services as hazard_services
        from civicgrid.hazards.models import Checklist

        defaults.ensure()
        worker = self.users[Role.GRID_WORKER]
        checklist = Checklist.objects.first()
        item = checklist.items.first()
        target = hazard_services.resolve_target(actor=worker, kind="unit", unit_id=self.unit.pk)
        self.inspection = hazard_services.record_inspection(
            actor=worker,
            target=target,
            checklist=checklist,
            findings=[
                hazard_services.Finding(
                    passed=False, item=item, hazard=True, level="major", description=f"{self.tag}专属隐患描述"
                )
            ],
            note=f"{self.tag}专属检查备注",
            photos=[photo(f"{self.tag}.png")],
        )
        self.inspection_photo = self.inspection.photos.get()
        self.hazard = self.inspection.new_hazards[0]
        self.fire_register = hazard_services.save_fire_register(
            actor=worker, building=self.building, smoke_detectors="missing", note=f"{self.tag}专属消防登记"
        )

    def _gridwork(self, code: str) -> None:
        """A 巡查点位 in the grid and a patrol of the 网格员 with a check-in there."""
        from civicgrid.gridwork import defaults as gridwork_defaults
        from civicgrid.gridwork import services as gridwork_services
        from civicgrid.gridwork.models import PatrolPoint, PointType

        gridwork_defaults.ensure()
        worker = self.users[Role.GRID_WORKER]
        g = self.grid
        lng, lat = (g.min_lng + g.max_lng) / 2, (g.min_lat + g.max_lat) / 2
        self.patrol_point = PatrolPoint.objects.create(
            street=self.street,
            grid=g,
            kind=PointType.objects.get(code="river"),
            name=f"{self.tag}专属河道点位",
            lng=lng,
            lat=lat,
        )
        self.patrol = gridwork_services.start_patrol(actor=worker, client_id=f"tier-patrol-{code}")
        gridwork_services.check_in(
            actor=worker,
            point=self.patrol_point,
            client_id=f"tier-check-{code}",
            lng=lng,
            lat=lat,
            patrol=self.patrol,
            findings=f"{self.tag}专属巡查发现",
        )

    def _bookkeeping(self, dispatcher, code: str) -> None:
        from civicgrid.core.models import ExportJob
        from civicgrid.intake.models import ImportJob, PlacementTask
        from civicgrid.notify.models import WebhookEndpoint
        from civicgrid.open311 import services as open311_services

        self.import_job = ImportJob.objects.create(
            source="hotline_12345",
            original_name=f"{self.tag}专属导入.xlsx",
            file_path="imports/none.xlsx",
            file_format="xlsx",
            created_by=dispatcher,
        )
        self.placement = PlacementTask.objects.create(
            case=self.case, job=self.import_job, address=f"{self.tag}专属待定位地址"
        )
        self.export_job = ExportJob.objects.create(kind="cases", params=[], total=1, created_by=dispatcher)
        self.import_run = self._import_run(code)
        self.key, self.plain = open311_services.issue_key(
            actor=self.users[Role.SYSTEM_ADMIN], name=f"{self.tag}专属平台", street=self.street
        )
        from civicgrid.accounts import services as account_services

        self.token, _key = account_services.issue_token(
            actor=dispatcher, user=dispatcher, name=f"{self.tag}专属令牌"
        )
        self.webhook = WebhookEndpoint.objects.create(
            name=f"{self.tag}专属群", kind="wecom", url="https://example.com/hook", street=self.street
        )

    def _import_run(self, code: str):
        """A 工作日历调整 import (core importer) started by this 街道's administrator, with its error report."""
        from django.conf import settings

        from civicgrid.core.models import ImportRun

        report = f"imports/tier-{code}-errors.xlsx"
        path = Path(settings.DATA_DIR) / report
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"PK-not-read")
        return ImportRun.objects.create(
            spec="core.calendar_overrides",
            original_name=f"{self.tag}专属日历调整.xlsx",
            file_path="imports/none.xlsx",
            file_format="xlsx",
            error_report_path=report,
            created_by=self.users[Role.SYSTEM_ADMIN],
        )

    @property
    def markers(self) -> list[str]:
        """What of this 街道 another 街道 must never read."""
        people = [u.username for u in self.users.values()] + [u.full_name for u in self.users.values()]
        return [
            self.street.name,
            self.community.name,
            self.grid.name,
            self.grid.code,
            self.building.name,
            self.unit.name,
            self.dept.name,
            self.dept.code,
            self.case.number,
            self.case.description,
            self.import_job.original_name,
            self.import_run.original_name,
            self.placement.address,
            self.key.name,
            self.webhook.name,
            self.token.name,
            self.hazard.number,
            self.hazard.description,
            self.inspection.note,
            self.fire_register.note,
            self.enforcement.number,
            self.enforcement.description,
            f"{self.tag}专属当事人",
            self.opinion.number,
            f"{self.tag}专属舆情标题",
            self.patrol_point.name,
            self.patrol.client_id,
            self.activity.name,
            self.plan.name,
            self.volunteer.name,
            self.dispute.number,
            self.dispute.description,
            self.dispute_org.name,
            f"{self.tag}专属当事人",
            self.petition.number,
            self.petition.petition_detail.summary,
            self.petition_task.text,
            self.reception.topic,
            self.indicator.name,
            self.project.name,
            self.micro_project.name,
            self.person.name,
            self.person.id_masked,
            self.visit.notes,
            f"{self.tag}专属房东",
            f"{self.tag}专属挂钩领导",
            f"{self.tag}专属入驻公司",
            f"{self.tag}专属企业走访",
            f"{self.tag}专属排查",
            *people,
        ]


class Tiers:
    def __init__(self):
        category = CategoryFactory()
        self.a = Side(tag="甲", code="330106001", col=0, category=category)
        self.b = Side(tag="乙", code="330106002", col=4, category=category)
        self.district = District.objects.get(code="330106")
        assert self.a.street.district == self.b.street.district == self.district
        self.qu_dispatcher = UserFactory(
            username="qu_dispatcher", role=Role.DISPATCHER, street=None, district=self.district
        )
        self.qu_leader = UserFactory(
            username="qu_leader", role=Role.LEADER, street=None, district=self.district
        )
        from civicgrid.metrics import services as metrics_services

        metrics_services.refresh()  # the statistics rollup holds both 街道 (grouped by 街道/社区/网格/部门)


@pytest.fixture
def tiers(db) -> Tiers:
    return Tiers()


def _text(response) -> str:
    """Everything a response carries as text: HTML/JSON/GeoJSON bodies, the strings of an Excel file, a download."""
    if getattr(response, "streaming", False):
        body = b"".join(response.streaming_content)
    else:
        body = response.content
    # an .xlsx / .docx: its shared strings, sheets, document (character references decoded: openpyxl's
    # full-mode writer stores text as &#NNNNN;)
    if body[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(body)) as z:
            return html.unescape(
                "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist() if n.endswith(".xml"))
            )
    text = body.decode("utf-8", "replace")
    if response.get("Content-Type", "").startswith("application/json"):
        with contextlib.suppress(ValueError):  # JSON escapes non-ASCII text: compare its decoded form too
            text += json.dumps(json.loads(text), ensure_ascii=False)
    return text


def _leaks(response, side: Side) -> list[str]:
    text = _text(response)
    return [m for m in side.markers if m and m in text]


# --- the URL conf, discovered -------------------------------------------------------------------------


def _walk(patterns, prefix: str = "", ns: str | None = None):
    for p in patterns:
        if isinstance(p, URLResolver):
            inner = ns
            if p.namespace:
                inner = f"{ns}:{p.namespace}" if ns else p.namespace
            yield from _walk(p.url_patterns, prefix + str(p.pattern), inner)
        elif isinstance(p, URLPattern):
            label = p.name or f"<{p.pattern}>"  # an unnamed pattern (e.g. the admin's redirects) still counts
            name = f"{ns}:{label}" if ns else label
            yield name, p


def endpoints():
    return list(_walk(get_resolver().url_patterns))


# endpoints that hold no street's business rows: public pages, login, health, the API's own documentation, the
# public base map (streets and buildings of the map, nothing about people or cases; one per installation),
# the public 随手拍 and tracking pages (a tracking code is the secret) and Open311 (scoped by its key: see
# test_open311_keys_see_only_their_street)
PUBLIC = {
    "healthz",
    "readyz",
    "metrics",
    "<^api/>",
    "api-v1:openapi-json",
    "api-v1:openapi-view",
    "api-v1:api-root",
    "accounts:login",
    "accounts:logout",
    "places:basemap",
    "pwa_sw",  # the 网格员 app's service worker and manifest: code and names, no rows
    "pwa_manifest",
}
PUBLIC_NAMESPACES = ("resident:", "open311:")

# the object each parameterised endpoint is about (by URL name; ninja routes by their parameter name)
OBJECT_OF = {
    "cases:detail": "case",
    "cases:notification_read": "notification",
    "cases:photo": "attachment",
    "cases:photo_thumb": "attachment",
    "exports:job": "export_job",
    "exports:progress": "export_job",
    "exports:download": "export_job",
    "intake:mapping": "import_job",
    "intake:header_row": "import_job",
    "intake:preview": "import_job",
    "intake:start": "import_job",
    "intake:job": "import_job",
    "intake:job_progress": "import_job",
    "intake:error_report": "import_job",
    "exports:import_errors": "import_run",
    "imports:run": "import_run",
    "imports:header_row": "import_run",
    "imports:mapping": "import_run",
    "imports:start": "import_run",
    "imports:progress": "import_run",
    "intake:place": "placement",
    "field:done": "case",
    "hazards:inspection": "inspection",
    "hazards:fire_register": "building",
    "gridwork:check": "patrol_point",
    "gridwork:replay": "patrol",
    "gridwork:track": "patrol",
    "triage:panel": "case",
    "triage:pick": "triage_suggestion",
    "triage:merge": "duplicate",
    "triage:dismiss": "duplicate",
    "disputes:detail": "dispute",
    "disputes:add_session": "dispute",
    "disputes:add_party": "dispute",
    "disputes:agreement": "dispute",
    "hazards:inspection_photo": "inspection_photo",
    "hazards:inspection_photo_thumb": "inspection_photo",
    "enforcement:detail": "enforcement",
    "opinion:detail": "opinion",
    "petitions:detail": "petition",
    "petitions:task": "petition",
    "petitions:resolve": "petition",
    "petitions:task_done": "petition_task",
    "goals:indicator": "indicator",
    "evaluation:board": "board",
    "evaluation:board_move": "board",
    "evaluation:board_xlsx": "board",
    "evaluation:board_docx": "board",
    "goals:project": "project",
    "reports:detail": "report",
    "reports:docx": "report_version",
    "reports:pdf": "report_version",
    "reports:figures": "report_version",
    "reports:retire_template": "report_template",
    "registers:person": "person",
    "registers:reveal": "person",
    "registers:floating": "person",
    "registers:household": "household",
    "registers:household_card": "household",
    "registers:household_visit": "household",
    "registers:person_visit": "person",
    "registers:assistance": "household",
    "registers:visit": "visit",
    "supervision:detail": "supervision",
    "supervision:supervise_case": "case",
    "supervision:warning": "warning",
    "estates:rental": "rental",
    "estates:rental_inspect": "rental",
    "estates:rental_clear": "rental",
    "estates:building": "building_profile",
    "estates:enterprise": "enterprise",
    "estates:enterprise_visit": "enterprise",
    "estates:campaign": "campaign",
    "estates:campaign_export": "campaign",
    "estates:target": "target",
    "activities:edit": "activity",
    "activities:delete": "activity",
    "activities:photo": "activity_photo",
    "activities:photo_thumb": "activity_photo",
    "activities:plan_edit": "plan",
    "activities:plan_delete": "plan",
    "activities:volunteer_edit": "volunteer",
    "activities:volunteer_entry": "volunteer",
}
NINJA_PARAMS = {
    "case_id": "case",
    "grid_id": "grid",
    "attachment_id": "attachment",
    "patrol_id": "patrol",
    "dispute_id": "dispute",
    "petition_id": "petition",
    "task_id": "petition_task",
    "indicator_id": "indicator",
    "board_id": "board",
    "project_id": "project",
    "micro_id": "micro_project",
    "report_id": "report",
    "version_id": "report_version",
    "person_id": "person",
    "household_id": "household",
    "supervision_id": "supervision",
    "warning_id": "warning",
    "rental_id": "rental",
    "enterprise_id": "enterprise",
    "campaign_id": "campaign",
    "target_id": "target",
    "dup_id": "duplicate",
    "street_id": "street",
}
# endpoints whose parameter names a kind of thing, not a row: walked like the plain ones with these arguments
FIXED_PARAMS = {
    "imports:new": {"spec": "core.calendar_overrides"},
    "imports:template": {"spec": "core.calendar_overrides"},
    # the category catalogue is shared by every 街道 (its keyword list too): no street's row behind the id
    "api-v1:put_keywords": {"category_id": 1},
}
# the walk also opens the import pages of each ledger spec (they hold no rows, but must not fail)
LEDGER_SPECS = ("enforcement.cases", "opinion.cases")


def _params(pattern: URLPattern) -> list[str]:
    return list(pattern.pattern.regex.groupindex)


def _reverse(name: str, kwargs: dict | None = None) -> str:
    from django.urls import reverse

    return reverse(name, kwargs=kwargs or None)


def _classify():
    """(no-argument endpoints, endpoints about one object: (name, {param: object kind}), admin endpoints,
    endpoints nobody told this test about)."""
    plain, about, admin_names, unknown = [], [], [], []
    for name, pattern in endpoints():
        params = _params(pattern)
        if name.startswith("admin:"):
            admin_names.append((name, params))
            continue
        if name in PUBLIC or name.startswith(PUBLIC_NAMESPACES):
            continue
        if not params or name in FIXED_PARAMS:
            plain.append(name)
            continue
        if name in OBJECT_OF:
            about.append((name, {params[0]: OBJECT_OF[name]}))
        elif all(p in NINJA_PARAMS for p in params):
            about.append((name, {p: NINJA_PARAMS[p] for p in params}))
        else:
            unknown.append(name)
    return plain, about, admin_names, unknown


def test_every_endpoint_is_known_to_the_tier_walk():
    """A new endpoint must be added to the walk (OBJECT_OF / NINJA_PARAMS) or, if it holds no business rows of a
    街道, to PUBLIC — this test names it."""
    _plain, _about, _admin, unknown = _classify()
    assert unknown == [], f"endpoints not covered by the tier walk: {unknown}"


def _login(client, user):
    client.force_login(user)
    return client


def _get_or_post(client, url: str):
    response = client.get(url)
    if response.status_code == 405:
        response = client.post(url, data="{}", content_type="application/json")
    return response


def test_street_people_never_see_the_other_street_anywhere(tiers, client):
    plain, about, _admin, _unknown = _classify()
    a, b = tiers.a, tiers.b
    for role in ROLES:
        user = a.users[role]
        _login(client, user)
        for name in plain:
            url = _reverse(name, FIXED_PARAMS.get(name))
            response = client.get(url)
            assert response.status_code < 500, (role, url, response.status_code)
            assert not _leaks(response, b), (role, url, _leaks(response, b))
        # the Excel export of the list, and the list filtered by B's grid and department
        for url in (
            "/cases/export.xlsx",
            f"/cases/?grid={b.grid.pk}",
            f"/api/v1/cases?department={b.dept.pk}",
            f"/api/v1/enforcement/cases/{b.enforcement.pk}",
            f"/api/v1/opinion/items/{b.opinion.pk}",
            *(
                f"/api/v1/stats/?from=2020-01-01&by={by}"
                for by in ("street", "community", "grid", "department")
            ),
            f"/api/v1/stats/?street={b.street.code}",
        ):
            response = client.get(url)
            assert response.status_code < 500 and not _leaks(response, b), (role, url)
        for name, kinds in about:
            url = _reverse(name, {p: getattr(b, kind).pk for p, kind in kinds.items()})
            response = _get_or_post(client, url)
            assert response.status_code in (302, 400, 403, 404, 405, 422), (role, url, response.status_code)
            assert not _leaks(response, b), (role, url, _leaks(response, b))
        client.logout()


def test_a_street_desk_still_sees_its_own_street(tiers, client):
    """The walk above is not vacuous: A's desk reads A's list, detail, map, export and API."""
    a = tiers.a
    _login(client, a.users[Role.DISPATCHER])
    assert a.case.number in _text(client.get("/cases/"))
    assert client.get(f"/cases/{a.case.pk}/").status_code == 200
    assert a.grid.code in _text(client.get("/places/grids.geojson"))
    assert a.case.number in _text(client.get("/cases/export.xlsx"))
    assert a.case.number in _text(client.get("/api/v1/cases"))
    assert a.dept.name in _text(client.get("/api/v1/accounts/departments"))
    assert a.community.name in _text(client.get("/api/v1/stats/?from=2020-01-01&by=community"))
    # the 安全隐患 ledger, its Excel, the inspection, the 四色地图 and the register of A
    assert a.hazard.number in _text(client.get("/hazards/"))
    assert a.hazard.number in _text(client.get("/hazards/export.xlsx"))
    assert a.inspection.note in _text(client.get(f"/hazards/inspections/{a.inspection.pk}/"))
    assert a.building.name in _text(client.get("/hazards/map.json"))
    assert client.get(f"/hazards/fire/{a.building.pk}/").status_code == 200
    # the 综合执法 ledger, its Excel, the record and the API of A
    assert a.enforcement.number in _text(client.get("/enforcement/"))
    assert a.enforcement.number in _text(client.get("/enforcement/export.xlsx"))
    assert "甲专属当事人" in _text(client.get(f"/enforcement/{a.enforcement.pk}/"))
    assert a.enforcement.number in _text(client.get("/api/v1/enforcement/cases"))
    assert a.opinion.number in _text(client.get("/opinion/"))
    assert a.opinion.number in _text(client.get("/opinion/export.xlsx"))
    assert "甲专属舆情标题" in _text(client.get(f"/opinion/{a.opinion.pk}/"))
    assert a.opinion.number in _text(client.get("/api/v1/opinion/items"))
    for spec in LEDGER_SPECS:
        assert client.get(f"/imports/{spec}/template.xlsx").status_code == 200
    # the 信访 ledger (A's dispatcher is on its 信访办), its Excel, one 信访, the 接待 register
    assert a.petition.number in _text(client.get("/petitions/"))
    assert a.petition.number in _text(client.get("/petitions/export.xlsx"))
    assert client.get(f"/petitions/{a.petition.pk}/").status_code == 200
    assert a.reception.topic in _text(client.get("/petitions/receptions/"))
    # 目标考核: the summary, its exports, the indicator, the board and the project of A
    assert a.indicator.name in _text(client.get("/goals/"))
    assert a.indicator.name in _text(client.get("/goals/summary.xlsx"))
    assert a.indicator.name in _text(client.get(f"/api/v1/goals/indicators/{a.indicator.pk}"))
    assert a.project.name in _text(client.get("/goals/projects/?year=2026&month=9"))
    assert client.get(f"/goals/projects/{a.project.pk}/").status_code == 200
    # 行政问效: A's published 红黑榜 (page, Excel, Word, API)
    assert "甲专属红黑榜说明" in _text(client.get(f"/evaluation/boards/{a.board.pk}/"))
    assert a.board.pk in [b["id"] for b in client.get("/api/v1/evaluation/boards").json()]
    assert client.get(f"/evaluation/boards/{a.board.pk}/board.xlsx").status_code == 200
    assert client.get(f"/evaluation/boards/{a.board.pk}/board.docx").status_code == 200
    # 指挥中心: the leader view's tables, their Excel, the 简报, the 大屏's data
    assert a.community.name in _text(client.get("/command/?period=custom&from=2020-01-01"))
    assert a.community.name in _text(client.get("/command/figures.xlsx?period=custom&from=2020-01-01"))
    assert a.dept.name in _text(client.get("/command/brief.docx?period=custom&from=2020-01-01"))
    assert a.grid.name in _text(client.get("/command/screen/data.json"))
    # 基础台账: the person (list, export, API), the 户 card, the visit
    assert a.person.name in _text(client.get("/registers/"))
    assert a.person.id_masked in _text(client.get("/registers/export.xlsx"))
    assert a.person.name in _text(client.get("/api/v1/registers/persons"))
    assert a.person.name in _text(client.get(f"/registers/households/{a.household.pk}/card/"))
    assert a.visit.notes in _text(client.get(f"/registers/visits/{a.visit.pk}/"))
    # 出租房 (list, Excel, API), 楼宇, 企业, 专项排查 (progress, Excel, target)
    assert a.rental.room in _text(client.get("/estates/")) and "甲**" in _text(client.get("/estates/"))
    assert "甲**" in _text(client.get("/estates/rentals/export.xlsx"))
    assert a.rental.room in _text(client.get("/api/v1/estates/rentals"))
    assert "甲专属挂钩领导" in _text(client.get(f"/estates/buildings/{a.building_profile.pk}/"))
    assert "甲专属企业走访" in _text(client.get(f"/estates/enterprises/{a.enterprise.pk}/"))
    assert "甲专属排查对象" in _text(client.get(f"/estates/campaigns/{a.campaign.pk}/"))
    assert "甲专属排查对象" in _text(client.get(f"/estates/campaigns/{a.campaign.pk}/export.xlsx"))
    assert client.get(f"/estates/targets/{a.target.pk}/").status_code == 200
    # 活动台账 (list, Excel, the activity and its photo), 应急预案 (list, Excel), 志愿者 (list, Excel, detail)
    assert a.activity.name in _text(client.get("/activities/"))
    assert a.activity.name in _text(client.get("/activities/export.xlsx"))
    assert a.activity.name in _text(client.get("/api/v1/activities/items"))
    assert client.get(f"/activities/{a.activity.pk}/").status_code == 200
    assert client.get(f"/activities/photos/{a.activity_photo.pk}/thumb/").status_code == 200
    assert a.plan.name in _text(client.get("/activities/plans/"))
    assert a.plan.name in _text(client.get("/activities/plans/export.xlsx"))
    assert a.volunteer.name in _text(client.get("/activities/volunteers/"))
    assert a.volunteer.name in _text(client.get("/activities/volunteers/export.xlsx"))
    assert client.get(f"/activities/volunteers/{a.volunteer.pk}/").status_code == 200
    # 巡访打卡: the patrol, its replay and track, the point
    assert a.patrol.client_id in _text(client.get("/api/v1/gridwork/patrols"))
    assert client.get(f"/gridwork/patrols/{a.patrol.pk}/").status_code == 200
    assert a.patrol_point.name in _text(client.get(f"/gridwork/patrols/{a.patrol.pk}/track.json"))
    assert a.patrol_point.name in _text(client.get("/gridwork/points/"))
    # the 矛盾纠纷 ledger, its Excel, the detail page, the 协议书, the API
    assert a.dispute.number in _text(client.get("/disputes/"))
    assert a.dispute.number in _text(client.get("/disputes/export.xlsx"))
    assert f"{a.tag}专属当事人" in _text(client.get(f"/disputes/{a.dispute.pk}/"))
    assert client.get(f"/disputes/{a.dispute.pk}/agreement.docx").status_code == 200
    assert a.dispute.number in _text(client.get(f"/api/v1/disputes/{a.dispute.pk}"))


@pytest.mark.parametrize("who", ["qu_dispatcher", "qu_leader"])
def test_the_district_level_sees_every_street_of_its_district(tiers, client, who):
    user = getattr(tiers, who)
    _login(client, user)
    for side in (tiers.a, tiers.b):
        assert side.case.number in _text(client.get("/cases/"))
        assert side.case.number in _text(client.get("/api/v1/cases"))
        assert side.case.number in _text(client.get("/cases/export.xlsx"))
        assert client.get(f"/cases/{side.case.pk}/").status_code == 200
        assert client.get(f"/api/v1/cases/{side.case.pk}").status_code == 200
        assert side.grid.code in _text(client.get("/places/grids.geojson"))
        assert client.get(f"/api/v1/places/grids/{side.grid.pk}").status_code == 200
        assert side.indicator.name in _text(client.get(f"/goals/?scorecard={side.scorecard.pk}"))
        assert side.project.name in _text(client.get("/goals/projects/?year=2026&month=9"))
        assert side.patrol.client_id in _text(client.get("/api/v1/gridwork/patrols"))
        assert client.get(f"/gridwork/patrols/{side.patrol.pk}/").status_code == 200
    # …and nothing of another 区
    other = StreetFactory(code="330108001", name="滨江某街道", division_code="330108")
    grid = GridFactory(community=CommunityFactory(street=other), col=9, name="别区网格")
    assert other.district.code == "330108"
    assert "别区网格" not in _text(client.get("/places/grids.geojson"))
    assert client.get(f"/api/v1/places/grids/{grid.pk}").status_code == 404


def test_the_admin_of_a_street_administers_only_its_street(tiers, client):
    """The 系统管理员 of A: every admin list and form (no other 街道's rows, none offered in a picker), and
    B's rows answer as if they did not exist."""
    from django.contrib import admin as django_admin

    a, b = tiers.a, tiers.b
    sysadmin = a.users[Role.SYSTEM_ADMIN]
    sysadmin.is_staff = True
    sysadmin.save()
    _login(client, sysadmin)
    _plain, _about, admin_names, _unknown = _classify()
    for name, params in admin_names:
        if params:
            continue
        url = _reverse(name)
        response = client.get(url)
        assert response.status_code < 500, (url, response.status_code)
        assert not _leaks(response, b), (url, _leaks(response, b))
    for label in {m._meta.app_label for m in django_admin.site._registry}:
        response = client.get(_reverse("admin:app_list", {"app_label": label}))
        assert not _leaks(response, b), label
    b_rows = [
        b.street,
        b.community,
        b.grid,
        b.building,
        b.unit,
        b.dept,
        b.users[Role.DISPATCHER],
        b.case,
        b.key,
        b.webhook,
        b.token,
        b.import_job,
        b.placement,
        b.inspection,
        b.fire_register,
        b.scorecard,
        b.indicator,
        b.project,
    ]
    for obj in b_rows:
        meta = obj._meta
        url = _reverse(f"admin:{meta.app_label}_{meta.model_name}_change", {"object_id": obj.pk})
        response = client.get(url)
        assert response.status_code in (302, 404), (url, response.status_code)
        assert not _leaks(response, b), (url, _leaks(response, b))
    # its own rows it does edit
    url = _reverse("admin:places_grid_change", {"object_id": a.grid.pk})
    assert client.get(url).status_code == 200


def test_the_auditor_of_a_street_reads_its_street_trail(tiers):
    from civicgrid.accounts.selectors import audit_log

    mine = audit_log(user=tiers.a.users[Role.AUDIT_ADMIN])
    assert mine.filter(actor=tiers.a.users[Role.DISPATCHER]).exists()
    assert not mine.filter(actor=tiers.b.users[Role.DISPATCHER]).exists()


def test_open311_keys_see_only_their_street(tiers, client):
    from civicgrid.open311.models import ServiceRequest  # noqa: F401  (the requests a key filed)

    a, b = tiers.a, tiers.b
    listed = _text(client.get("/open311/v2/requests.json", {"api_key": a.plain}))
    assert b.case.number not in listed
    detail = client.get(f"/open311/v2/requests/{b.case.number}.json", {"api_key": a.plain})
    assert detail.status_code == 404 and b.case.description not in _text(detail)


# --- what each tier may change (services) --------------------------------------------------------------


def test_cases_carry_their_street_from_the_grid_the_desk_or_the_channel(tiers):
    a, b = tiers.a, tiers.b
    assert a.case.street == a.street and b.case.street == b.street
    # desk intake without a place: the desk's 街道
    desk = case_services.create_case(
        actor=b.users[Role.DISPATCHER], source="dispatcher", description="来电反映，无具体位置"
    )
    assert desk.street == b.street
    assert desk in case_selectors.visible_cases(user=b.users[Role.DISPATCHER])
    assert desk not in case_selectors.visible_cases(user=a.users[Role.DISPATCHER])
    # the 区 desk must say where (its 区 has two 街道)
    with pytest.raises(ValidationFailed):
        case_services.create_case(actor=tiers.qu_dispatcher, source="dispatcher", description="无位置")
    # …and files in any 街道 of its 区 by the grid
    qu_case = case_services.create_case(
        actor=tiers.qu_dispatcher, source="dispatcher", description="区里登记", grid=b.grid
    )
    assert qu_case.street == b.street


def test_a_street_cannot_file_or_dispatch_into_another_street(tiers):
    a, b = tiers.a, tiers.b
    with pytest.raises(PermissionDenied):
        case_services.create_case(
            actor=a.users[Role.DISPATCHER], source="dispatcher", description="越界", grid=b.grid
        )
    case = case_services.create_case(
        actor=a.users[Role.DISPATCHER],
        source="dispatcher",
        description="本街道",
        grid=a.grid,
        category=a.case.category,
    )
    case = case_services.perform(
        actor=a.users[Role.DISPATCHER], case=case, move="accept", version=case.version
    )
    with pytest.raises(ValidationFailed) as err:
        case_services.perform(
            actor=a.users[Role.DISPATCHER],
            case=case,
            move="dispatch",
            version=case.version,
            department=b.dept,
        )
    assert err.value.field == "department"


def test_a_street_cannot_touch_another_streets_case(tiers):
    a, b = tiers.a, tiers.b
    for role in (Role.DISPATCHER, Role.SHIFT_LEADER, Role.LEADER):
        move = "supervise" if role != Role.DISPATCHER else "suspend"
        with pytest.raises(NotFound):
            case_services.perform(
                actor=a.users[role],
                case=b.case,
                move=move,
                version=b.case.version,
                note="越界",
                reason="越界",
            )
    with pytest.raises(NotFound):
        case_selectors.get_case(user=a.users[Role.LEADER], pk=b.case.pk)


def test_the_district_supervises_and_dispatches_across_its_streets(tiers):
    """区领导: 督办 in every 街道 of the 区 (an instruction; it changes no case otherwise). 区指挥中心: the desk
    work (受理, 派遣 to the case's own 街道's departments or the 区's, 改派, 结案) in every 街道 of the 区."""
    a, b = tiers.a, tiers.b
    for side in (a, b):
        case = Case.objects.get(pk=side.case.pk)
        case = case_services.perform(
            actor=tiers.qu_leader, case=case, move="supervise", version=case.version, note="区领导督办"
        )
        assert case.supervise_count == 1
    assert not case_selectors.can_change(user=tiers.qu_leader, case=b.case)
    assert case_selectors.can_change(user=tiers.qu_dispatcher, case=b.case)
    case = case_services.create_case(
        actor=b.users[Role.GRID_WORKER],
        source="grid_patrol",
        description="网格员上报",
        grid=b.grid,
        category=b.case.category,
    )
    case = case_services.perform(actor=tiers.qu_dispatcher, case=case, move="accept", version=case.version)
    # a 区-level department serves every 街道 of the 区; another 街道's department does not
    qu_dept = DepartmentFactory(code="QUCG", name="区城管局", street=None, district=tiers.district)
    with pytest.raises(ValidationFailed):
        case_services.perform(
            actor=tiers.qu_dispatcher, case=case, move="dispatch", version=case.version, department=a.dept
        )
    case = case_services.perform(
        actor=tiers.qu_dispatcher, case=case, move="dispatch", version=case.version, department=qu_dept
    )
    assert case.department == qu_dept and case.street == b.street


def test_relocating_a_case_moves_it_to_the_grids_street(tiers):
    a, b = tiers.a, tiers.b
    case = case_services.create_case(
        actor=tiers.qu_dispatcher, source="hotline_12345", description="待定位", grid=a.grid
    )
    moved = case_services.relocate_case(
        actor=tiers.qu_dispatcher, case=case, grid=b.grid, lng=120.12, lat=30.25, note="定位"
    )
    assert moved.street == b.street
    assert moved in case_selectors.visible_cases(user=b.users[Role.DISPATCHER])
    assert moved not in case_selectors.visible_cases(user=a.users[Role.DISPATCHER])


def test_notifications_stay_in_the_cases_street(tiers):
    a, b = tiers.a, tiers.b
    case = case_services.create_case(
        actor=b.users[Role.GRID_WORKER], source="grid_patrol", description="上报", grid=b.grid
    )
    from civicgrid.cases.notifications import notify

    everyone = list(User.objects.filter(role__in=[Role.DISPATCHER, Role.SHIFT_LEADER]))
    notify(users=everyone, case=case, kind="reported", text="新上报")
    told = set(Notification.objects.filter(case=case).values_list("user_id", flat=True))
    assert b.users[Role.DISPATCHER].pk in told and tiers.qu_dispatcher.pk in told
    assert a.users[Role.DISPATCHER].pk not in told and a.users[Role.SHIFT_LEADER].pk not in told


def test_accounts_and_departments_are_made_within_the_administrators_tier(tiers):
    from civicgrid.accounts import services as account_services

    admin_a = tiers.a.users[Role.SYSTEM_ADMIN]
    made = account_services.create_user(
        actor=admin_a, username="new_a", password=PASSWORD, role=Role.DISPATCHER, full_name="新人"
    )
    assert made.street == tiers.a.street and made.district == tiers.district
    with pytest.raises(ValidationFailed):
        account_services.create_user(
            actor=admin_a, username="new_b", password=PASSWORD, role=Role.DISPATCHER, street=tiers.b.street
        )
    with pytest.raises(ValidationFailed):
        account_services.create_user(
            actor=admin_a, username="new_qu", password=PASSWORD, role=Role.LEADER, district=tiers.district
        )
    dept = account_services.create_department(actor=admin_a, code="NEWA", name="甲新部门")
    assert dept.street == tiers.a.street


def test_the_district_desk_does_not_merge_across_streets(tiers):
    a, b = tiers.a, tiers.b
    again = case_services.create_case(
        actor=b.users[Role.DISPATCHER], source="dispatcher", description="重复来电", grid=b.grid
    )
    with pytest.raises(ValidationFailed) as err:
        case_services.perform(
            actor=tiers.qu_dispatcher,
            case=again,
            move="merge",
            version=again.version,
            target_case=a.case,
            note="重复",
            reason="重复",
        )
    assert err.value.field == "target_case"


def test_a_street_admin_imports_grids_only_into_its_street(tiers):
    from civicgrid.places import services as place_services
    from tests.places.helpers import collection, two_by_two

    features = two_by_two()
    for f in features:  # the other 街道's community
        f["properties"]["community_code"] = tiers.b.community.code
        f["properties"]["code"] = tiers.b.community.code + f["properties"]["code"][-3:]
    data = collection(*features)
    with pytest.raises(ValidationFailed) as err:
        place_services.import_grids(actor=tiers.a.users[Role.SYSTEM_ADMIN], data=data, filename="g.geojson")
    assert any(e["field"] == "community_code" for e in err.value.details)
    result = place_services.import_grids(
        actor=tiers.b.users[Role.SYSTEM_ADMIN], data=data, filename="g.geojson", dry_run=True
    )
    assert result.grids_created == 4


def test_a_street_admin_cannot_make_a_district_level_account_in_the_admin(tiers, client):
    sysadmin = tiers.a.users[Role.SYSTEM_ADMIN]
    sysadmin.is_staff = True
    sysadmin.save()
    _login(client, sysadmin)
    response = client.post(
        "/admin/accounts/user/add/",
        {
            "username": "sneaky",
            "usable_password": "true",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "role": Role.LEADER,
            "full_name": "想看全区",
            "street": "",
            "district": tiers.district.pk,
        },
    )
    assert response.status_code == 302, _text(response)[:2000]
    made = User.objects.get(username="sneaky")
    assert made.street == tiers.a.street  # not 区-level
    # another 街道 is not even offered
    response = client.post(
        "/admin/accounts/user/add/",
        {
            "username": "sneaky2",
            "usable_password": "true",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "role": Role.LEADER,
            "street": tiers.b.street.pk,
        },
    )
    assert response.status_code == 200 and not User.objects.filter(username="sneaky2").exists()


def test_an_import_run_belongs_to_the_street_of_who_started_it(tiers, client):
    """Core importer runs (here 工作日历调整, a spec every 系统管理员 may run): each 街道's administrator lists and
    downloads only the runs started in its own 街道; the 区 level sees both."""
    from civicgrid.core import importer

    a, b = tiers.a, tiers.b
    admin_a = a.users[Role.SYSTEM_ADMIN]
    assert list(importer.visible_runs(user=admin_a)) == [a.import_run]
    _login(client, admin_a)
    assert client.get(f"/exports/imports/{a.import_run.pk}/errors/").status_code == 200
    assert client.get(f"/exports/imports/{b.import_run.pk}/errors/").status_code == 404
    # the wizard's pages: its own run opens (even with its file gone), the other 街道's is not there
    assert client.get(f"/imports/runs/{a.import_run.pk}/").status_code == 200
    assert client.get(f"/imports/runs/{b.import_run.pk}/").status_code == 404
    listing = _text(client.get("/imports/"))
    assert a.import_run.original_name in listing and b.import_run.original_name not in listing
    qu_admin = UserFactory(username="qu_admin", role=Role.SYSTEM_ADMIN, street=None, district=tiers.district)
    assert set(importer.visible_runs(user=qu_admin)) == {a.import_run, b.import_run}
