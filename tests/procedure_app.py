"""A second 办理程序 for the tests: 测试整改 (a hazard found, 交办 with a 整改期限 chosen within bounds, 整改, 复查).

It is registered for the whole test session from ``tests/conftest.py`` (before any URLconf is loaded, as an app
would from its ``AppConfig.ready()``), so every other test also runs with two procedures registered: the
standard one must behave exactly as before. Its detail model lives in no installed app (so ``makemigrations``
and the app registry's reverse relations never see it); ``tests/conftest.py`` creates its table once per test
database (``db_constraint=False``: PostgreSQL's TRUNCATE of ``cases_case`` in transactional tests stays legal).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from civicgrid.accounts.roles import Role
from civicgrid.cases import procedures as P
from civicgrid.cases import workflow as W
from civicgrid.cases.models import Case, DeadlineUnit

CODE = "rectify_test"


class RectifyDetail(models.Model):
    """The procedure's one-to-one detail record (a 隐患 ledger would keep its own fields here)."""

    case = models.OneToOneField(
        Case, on_delete=models.CASCADE, db_constraint=False, related_name="rectify_detail"
    )
    hazard_level = models.CharField(
        "隐患等级", max_length=10, blank=True, choices=[("general", "一般隐患"), ("major", "重大隐患")]
    )
    measures = models.TextField("整改措施", blank=True)

    class Meta:
        app_label = "tests_procedures"
        db_table = "tests_rectify_detail"

    def __str__(self):
        return f"{self.case_id}: {self.hazard_level}"


def sees_rectification(user) -> Q:
    """Only the command centre, 领导 and departments see 整改 cases — not the 网格员 of the grid."""
    if user.role in (Role.DISPATCHER, Role.SHIFT_LEADER, Role.LEADER, Role.DEPT_HANDLER, Role.SYSTEM_ADMIN):
        return Q()
    return Q(pk__in=[])


def _report_fixed(ctx) -> dict:
    """The move's own work (a handler gets the engine's context: actor, case, move, now, note, reason, …,
    ``detail_record``): the note becomes the case's 处置反馈."""
    ctx.case.handling_feedback = ctx.note
    ctx.case.handled_at = ctx.now
    return {"measures": ctx.detail_record.measures}


DESK = {Role.DISPATCHER: W.ANY, Role.SHIFT_LEADER: W.ANY}
DEPT = {Role.DEPT_HANDLER: W.OWN_DEPARTMENT}

PROCEDURE = P.Procedure(
    code=CODE,
    label="测试整改程序",
    states=(
        P.StateDef("found", "发现隐患", "secondary"),
        P.StateDef("assigned", "已交办", "info"),
        P.StateDef("fixing", "整改中", "warning"),
        P.StateDef("fixed", "已整改待复查", "primary"),
        P.StateDef("signed_off", "已销号", "success"),
        P.StateDef("dropped", "已撤销", "dark"),
    ),
    initial="found",
    handlers={"report_fixed": _report_fixed},
    moves=(
        W.define_move(
            "assign_fix",
            "交办整改",
            ["found"],
            "assigned",
            DESK,
            fields=("department", "note"),
            required=("department",),
        ),
        W.define_move("start_fix", "开始整改", ["assigned"], "fixing", DEPT),
        W.define_move(
            "report_fixed",
            "报告整改完成",
            ["fixing"],
            "fixed",
            DEPT,
            fields=("note",),
            required=("note",),
            detail_fields=("measures",),
            style="success",
        ),
        W.define_move("sign_off", "复查销号", ["fixed"], "signed_off", DESK, style="success"),
        W.define_move(
            "reject_fix",
            "复查不合格",
            ["fixed"],
            "fixing",
            DESK,
            fields=("reason",),
            required=("reason",),
            style="warning",
        ),
        W.define_move(
            "drop",
            "撤销",
            ["found", "assigned"],
            "dropped",
            {Role.SHIFT_LEADER: W.ANY},
            fields=("reason",),
            required=("reason",),
            style="danger",
        ),
    ),
    stages=(
        P.StageRule(
            "rectify",
            "整改期限",
            starts=("assign_fix",),
            stops=("report_fixed",),
            chosen=P.LimitBounds("assign_fix", 1, 30, DeadlineUnit.NATURAL_DAYS),
        ),
        P.StageRule(
            "review",
            "复查时限",
            starts=("report_fixed",),
            stops=("sign_off", "reject_fix"),
            amount=3,
            unit=DeadlineUnit.NATURAL_DAYS,
        ),
    ),
    open=frozenset({"assigned", "fixing", "fixed"}),
    closed=frozenset({"signed_off", "dropped"}),
    terminal=frozenset({"signed_off", "dropped"}),
    done=frozenset({"signed_off"}),
    visibility=sees_rectification,
    detail_model=RectifyDetail,
)


def register() -> None:
    P.register(PROCEDURE)
