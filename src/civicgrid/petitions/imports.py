"""Import of an existing 信访台账 (Excel/CSV) through core's importer (:mod:`civicgrid.core.importer`; the
/imports/ wizard: mapping, preview, row-level errors, idempotent by 原台账编号).

Each row becomes a ``petition`` case with its detail record, driven through the engine to the state its dates
say (登记 → 受理告知 → 答复 → 办结), each move at its date (09:00 登记, 09:30 受理告知, 10:00 答复, 10:30 办结,
Asia/Shanghai), so the 自然日 limits and the figures follow the original ledger. Re-importing the same file changes
nothing (the ledger of :class:`~civicgrid.core.models.ImportLedger`); a changed row may only add later dates
(e.g. the 办结日期 arrived) — other changes are refused on that row. Only the 信访办 may import.
"""

from __future__ import annotations

from datetime import date, datetime, time

from civicgrid.core import audit, clock
from civicgrid.core.importer import (
    ApplyContext,
    ImportSpec,
    RowError,
    choice_field,
    date_field,
    integer_field,
    register_spec,
    text_field,
)
from civicgrid.petitions.models import LeapLevel, PetitionDetail, PetitionForm, PetitionKind
from civicgrid.petitions.workflow import is_desk

FORMS = {**{label: value for value, label in PetitionForm.choices}, "网上": "online", "网信": "online",
         "来电": "phone", "信箱": "mailbox", "书记信箱": "mailbox"}  # fmt: skip
KINDS = {**{label: value for value, label in PetitionKind.choices}, "初信": "first", "初访": "first",
         "初次": "first", "重复": "repeat", "重信重访": "repeat", "越级": "leapfrog", "越级访": "leapfrog"}  # fmt: skip
LEVELS = {label: value for value, label in LeapLevel.choices} | {
    "市": "city",
    "省": "province",
    "北京": "beijing",
}
GROUP = {"是": True, "集体访": True, "集体": True, "否": False, "个人": False, "": False}

FIELDS = (
    text_field("ref", "原台账编号", ("信访编号", "编号", "件号", "登记编号"), required=True, max_length=40),
    date_field("registered_on", "登记日期", ("来信来访日期", "信访日期", "日期"), required=True),
    choice_field("form", "信访形式", FORMS, ("形式", "方式", "来源"), required=True),
    text_field("petitioner_name", "信访人", ("姓名", "信访人姓名", "代表人"), required=True, max_length=50),
    choice_field("is_group", "集体访", GROUP, ("是否集体访",)),
    integer_field("headcount", "人数", ("人次",), min_value=1, max_value=10_000),
    choice_field("kind", "信访类别", KINDS, ("类别", "初重访", "类型")),
    choice_field("leap_level", "越级层级", LEVELS, ("越级去向",)),
    text_field(
        "summary", "信访事项", ("反映问题", "事项", "内容摘要", "主要诉求"), required=True, max_length=300
    ),
    text_field("lead", "包案领导", ("包案领导账号",), max_length=150),
    date_field("accepted_on", "受理日期", ("受理告知日期",)),
    date_field("replied_on", "答复日期", ("出具意见日期",)),
    date_field("done_on", "办结日期", ("结案日期",)),
)

AT = {"register": time(9, 0), "notify_accept": time(9, 30), "reply": time(10, 0), "close": time(10, 30)}


def _can_import(user) -> bool:
    return is_desk(user)


def _clean(number: int, v: dict) -> dict:
    today = clock.local_now().date()
    v["kind"] = v.get("kind") or PetitionKind.FIRST
    v["is_group"] = bool(v.get("is_group"))
    v["headcount"] = v.get("headcount") or (5 if v["is_group"] else 1)
    v["leap_level"] = v.get("leap_level") or ""
    v["lead"] = v.get("lead") or ""
    if v["kind"] == PetitionKind.LEAPFROG and not v["leap_level"]:
        raise RowError("越级信访须填写越级层级（赴市/赴省/进京）")
    if v["kind"] != PetitionKind.LEAPFROG:
        v["leap_level"] = ""
    if v["is_group"] and v["headcount"] < 5:
        raise RowError("集体访人数须在 5 人以上")
    if not v["is_group"] and v["headcount"] > 4:
        raise RowError("个人信访人数为 1–4 人（5 人以上请在“集体访”填“是”）")
    chain = [("registered_on", "登记日期"), ("accepted_on", "受理日期"), ("replied_on", "答复日期"),
             ("done_on", "办结日期")]  # fmt: skip
    last, last_label = None, ""
    for name, label in chain:
        day = v.get(name)
        if day is None:
            continue
        if day > today:
            raise RowError(f"{label}晚于今天：{day:%Y-%m-%d}")
        if last is not None and day < last:
            raise RowError(f"{label}早于{last_label}：{day:%Y-%m-%d}")
        last, last_label = day, label
    if v.get("replied_on") and not v.get("accepted_on"):
        raise RowError("有答复日期的信访须填写受理日期")
    if v.get("done_on") and not v.get("replied_on"):
        raise RowError("有办结日期的信访须填写答复日期")
    return v


def _describe(v: dict) -> dict[str, str]:
    state = "已办结" if v.get("done_on") else "已答复" if v.get("replied_on") else (
        "办理中" if v.get("accepted_on") else "待受理")  # fmt: skip
    return {"导入后状态": state, "类别": dict(PetitionKind.choices)[v["kind"]]}


def _at(day: date, move: str) -> datetime:
    return datetime.combine(day, AT[move], tzinfo=clock.SHANGHAI)


def _lead(actor, text: str):
    if not text:
        return None
    from civicgrid.petitions import selectors

    people = selectors.lead_choices(user=actor)
    found = list(people.filter(username=text)[:2]) or list(people.filter(full_name=text)[:2])
    if len(found) != 1:
        raise RowError(f"包案领导「{text}」不是本街道的领导或值班长（填账号或姓名）" if not found else
                       f"包案领导「{text}」有重名，请填账号")  # fmt: skip
    return found[0]


def _advance(actor, case, v: dict, detail: PetitionDetail) -> None:
    from civicgrid.petitions import services

    steps = [("notify_accept", v.get("accepted_on"), detail.accepted_at, {}),
             ("reply", v.get("replied_on"), detail.replied_at, {"detail": {"reply": "（据原台账导入）"}}),
             ("close", v.get("done_on"), detail.done_at, {})]  # fmt: skip
    for move, day, done, kw in steps:
        if day is None or done is not None:
            continue
        with clock.frozen(_at(day, move)):
            case = services.move(actor=actor, case=case, name=move, channel="import", **kw)


def _apply(v: dict, ctx: ApplyContext):
    from civicgrid.core.errors import DomainError
    from civicgrid.petitions import selectors, services

    actor = ctx.actor
    if not is_desk(actor):
        raise RowError("只有信访办人员可以导入信访台账")
    existing = (
        PetitionDetail.objects.filter(ledger_ref=v["ref"], case__in=selectors.visible_petitions(user=actor))
        .select_related("case")
        .first()
    )
    try:
        if existing is None:
            data = services.Registration(
                form=v["form"],
                summary=v["summary"],
                petitioner_name=v["petitioner_name"],
                kind=v["kind"],
                leap_level=v["leap_level"],
                is_group=v["is_group"],
                headcount=v["headcount"],
                lead=_lead(actor, v["lead"]),
                ledger_ref=v["ref"],
            )
            if data.kind == PetitionKind.REPEAT:
                data.earlier = []
            data = services._clean(actor, data)
            registered = _at(v["registered_on"], "register")
            with clock.frozen(registered):
                case = services._create(actor=actor, data=data, registered_at=registered, channel="import")
            detail = case.petition_detail
        else:
            case, detail = existing.case, existing
            if (
                clock.to_local(detail.registered_at).date() != v["registered_on"]
                or detail.summary != v["summary"]
            ):
                raise RowError("该编号已导入，登记日期和信访事项不能更改（只能补充受理、答复、办结日期）")
        _advance(actor, case, v, detail)
    except DomainError as exc:
        raise RowError(exc.message) from None
    audit.record(actor=actor, action="petitions.petition.import", obj=case, after={"ref": v["ref"]})
    return case.pk


SPEC = register_spec(
    ImportSpec(
        name="petitions.ledger",
        label="信访台账",
        fields=FIELDS,
        key_field="ref",
        key_label="原台账编号",
        clean=_clean,
        describe=_describe,
        apply_row=_apply,
        can_import=_can_import,
    )
)
