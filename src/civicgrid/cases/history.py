"""The case engine's set-based entry for history: many cases with their whole lives, written at once.

A *history engine* replays scripted lives in memory on unsaved ``Case`` objects, move by move, exactly as
:func:`civicgrid.cases.services.perform` would: the same guard (:func:`civicgrid.cases.workflow.check`, the
transition table with the actor's facts), the same clock arithmetic (:mod:`civicgrid.cases.deadlines`), the same
fields and timeline rows (``CaseEvent`` with clock snapshots, ``CaseDepartment``, ``ExtensionRequest``,
after-photos). :func:`civicgrid.cases.services.bulk_import_history` then inserts what it played, set-based, in one
transaction.

- :class:`HistoryEngine` — older history: no per-move audit rows, no notifications (nobody was logged in to read
  them; the caller records one summary audit row).
- :class:`RecentHistoryEngine` — recent weeks: also an audit row per move, the in-app notifications each move
  sends and the yellow/red notices of the two-hourly light job (:func:`civicgrid.cases.jobs.refresh_lights`).

A script drives an engine through ``create(spec, at, auto_accept=…)`` (``spec``: description, source,
source_ref, category, lng, lat, address, grid, reporter_name, reporter_phone, creator, occurred_at, photo) and
``move(sim, move, actor, at, photo=…, **kw)``; photos are indexes into the list given to the entry. The demo
(:mod:`civicgrid.demo.cases`) is its user.

Only the **standard** procedure (:data:`civicgrid.cases.procedures.STANDARD`) can be played: the engines replay its
handlers' rules move by move. A spec naming another procedure (``spec.procedure``) is refused with
``ValidationFailed`` (code ``invalid_input``, field ``procedure``), and so is a write of a case that follows
another one; such cases are created and moved one by one through :mod:`civicgrid.cases.services`.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from civicgrid.cases import procedures
from civicgrid.cases.errors import CaseErrorCode
from civicgrid.core.errors import ValidationFailed

JOB_EVERY = timedelta(hours=2)  # the light job's period (registered with civicgrid.core.periodic)

# the light job's states: the standard procedure's running group (open and not paused)
_RUNNING = tuple(sorted(procedures.STANDARD.open - procedures.STANDARD.paused))


def check_standard(code: str | None) -> None:
    """Refuse a procedure other than the standard one: the bulk engines replay only its rules."""
    if code in (None, "", procedures.DEFAULT_CODE):
        return
    label = procedures.get(code).label
    raise ValidationFailed(
        f"批量历史导入只支持标准流程，「{label}」的工单请逐件新建和办理",
        field="procedure",
        code=CaseErrorCode.INVALID_INPUT,
    )


class _Ref:
    """A primary key known only after the bulk insert."""

    def __init__(self, obj, attr: str = "pk", fmt: Callable | None = None):
        self.obj, self.attr, self.fmt = obj, attr, fmt

    def resolve(self):
        value = getattr(self.obj, self.attr)
        return self.fmt(value) if self.fmt else value


@dataclass
class _Sim:
    case: object
    events: list = field(default_factory=list)
    departments: dict = field(default_factory=dict)  # department id → first assigned at
    revoked: dict = field(
        default_factory=dict
    )  # department id → when it lost access (the case went elsewhere)
    attachments: list = field(default_factory=list)  # (event index, kind, photo, actor, at)
    extensions: list = field(default_factory=list)
    pending: object = None  # the pending ExtensionRequest
    merge_into: _Sim | None = None

    @property
    def state(self) -> str:
        return self.case.state

    @property
    def version(self) -> int:
        return self.case.version


class HistoryEngine:
    """In memory, mirroring ``services._perform_locked`` move by move; :meth:`write` inserts everything."""

    name = "bulk"

    def __init__(self):
        from civicgrid.cases import deadlines, services, workflow
        from civicgrid.cases.models import Case, CaseNumberCounter

        self.deadlines, self.services, self.workflow = deadlines, services, workflow
        self.Case = Case
        self.datetime_fields = [
            f.attname for f in Case._meta.concrete_fields if f.get_internal_type() == "DateTimeField"
        ]
        self.sims: list[_Sim] = []
        self.counters: dict = dict(CaseNumberCounter.objects.values_list("day", "last"))
        self._dept_cache: dict = {}
        self._grid_ids: dict = {}

    def state(self, sim: _Sim) -> str:
        return sim.case.state

    def budget(self, sim: _Sim):
        c = sim.case
        return c.limit_unit, c.clock_started_at, c.budget_seconds, c.paused_measure_seconds

    def tick(self, at: datetime) -> None:  # the periodic job is emulated per case before each move
        pass

    # -- guard facts, as services.facts_for computes them --

    def _own_grid_ids(self, user) -> set:
        if user.pk not in self._grid_ids:
            from civicgrid.places.models import Grid

            ids = set(user.grids.values_list("pk", flat=True)) if user.role == "grid_worker" else set()
            if ids:
                ids |= set(Grid.objects.filter(parent_id__in=ids).values_list("pk", flat=True))
            self._grid_ids[user.pk] = ids
        return self._grid_ids[user.pk]

    def _facts(self, sim: _Sim, user):
        case = sim.case
        own_grid = user.role == "grid_worker" and case.grid_id in self._own_grid_ids(user)
        return self.workflow.Facts(
            own_department=user.role == "dept_handler"
            and user.department_id is not None
            and case.department_id == user.department_id,
            own_grid=own_grid,
            own_community=user.role == "community_staff"
            and user.community_id is not None
            and case.community_id == user.community_id,
            can_file=user.role == "grid_worker"
            and case.category.grid_worker_can_file
            and (own_grid or case.created_by_id == user.pk),
            extension_pending=case.state in ("dispatched", "handling") and sim.pending is not None,
        )

    # -- create / move --

    def _number(self, at: datetime) -> str:
        from civicgrid.core import clock

        day = clock.to_local(at).date()
        self.counters[day] = self.counters.get(day, 0) + 1
        return f"C{day:%Y%m%d}{self.counters[day]:05d}"

    def _event(self, sim: _Sim, *, move, from_state, actor, at, note="", data=None) -> int:
        # a CaseEvent row by attname (no model instance: tens of thousands of them are written set-based)
        sim.events.append(
            {
                "seq": len(sim.events) + 1,
                "move": move,
                "from_state": from_state,
                "to_state": sim.case.state,
                "actor_id": actor.pk if actor else None,
                "actor_name": (actor.display_name if actor else "系统")[:150],
                "actor_role": getattr(actor, "role", "") or "",
                "at": at,
                "note": note,
                "data": data or {},
                "clock": self.deadlines.snapshot(sim.case, at),
            }
        )
        return len(sim.events) - 1

    def create(self, spec, at: datetime, *, auto_accept: bool) -> _Sim:
        check_standard(getattr(spec, "procedure", None))
        case = self.Case(
            description=spec.description,
            source=spec.source,
            source_ref=spec.source_ref[:100],
            category=spec.category,
            priority=spec.category.priority,
            lng=spec.lng,
            lat=spec.lat,
            address=spec.address[:200],
            grid=spec.grid,
            community_id=spec.grid.community_id,
            street_id=self.services.case_street_id(actor=spec.creator, grid=spec.grid),
            reporter_name=spec.reporter_name[:50],
            reporter_phone=spec.reporter_phone[:30],
            created_by=spec.creator,
            occurred_at=spec.occurred_at,
            created_at=at,
            updated_at=at,
        )
        case.title = self.services._title(case)
        sim = _Sim(case=case)
        self.sims.append(sim)
        idx = self._event(
            sim,
            move="create",
            from_state="",
            actor=spec.creator,
            at=at,
            data={"source": spec.source, "auto_accept": auto_accept},
        )
        if spec.photo is not None:
            sim.attachments.append((idx, "before", spec.photo, spec.creator, at))
        self._created(sim, spec.creator, at)
        if auto_accept:
            self.move(sim, "accept", spec.creator, at)
        return sim

    # hooks for what the services leave besides the case rows (see RecentHistoryEngine); none for older history

    def _created(self, sim: _Sim, actor, at: datetime) -> None:
        pass

    def _before_move(self, sim: _Sim, at: datetime):
        case = sim.case
        if case.state in _RUNNING and case.paused_since is None:
            self.deadlines.refresh(case, at)  # older history: as if the job had run just now
        return None

    def _moved(
        self, sim: _Sim, name: str, actor, at: datetime, before, note: str, data: dict, kw: dict
    ) -> None:
        pass

    def _department(self, dept):
        return dept

    def _cancel_pending(self, sim: _Sim, at: datetime, note: str) -> None:
        if sim.pending is not None:
            sim.pending.status = "denied"
            sim.pending.decided_at = at
            sim.pending.decision_note = note
            sim.pending = None

    def _assign(self, sim: _Sim, dept, at: datetime, note: str, extension: int = 0) -> list[int]:
        case = sim.case
        case.department = dept
        case.returned = False
        case.dispatched_at = at
        sim.departments.setdefault(dept.pk, at)
        sim.revoked.pop(dept.pk, None)
        revoked = [d for d in sim.departments if d != dept.pk and d not in sim.revoked]
        for d in revoked:
            sim.revoked[d] = at
        self._cancel_pending(sim, at, note)
        self.deadlines.start_stage(case, "handle", at, extension=extension)
        return revoked

    def move(self, sim: _Sim, move: str, actor, at: datetime, *, photo: int | None = None, **kw) -> None:
        from civicgrid.cases.models import ExtensionRequest

        d, wf = self.deadlines, self.workflow
        case = sim.case
        # services re-read the row first: every stored datetime comes back in UTC (plain fields: straight in the
        # instance __dict__, where their descriptors read them)
        values = case.__dict__
        for f in self.datetime_fields:
            value = values[f]
            if value is not None and value.tzinfo is not UTC:
                values[f] = value.astimezone(UTC)
        before = self._before_move(sim, at)  # what the periodic light job would have recorded by now
        m = wf.get_move(move)
        wf.check(case.state, m, actor.role, self._facts(sim, actor))
        from_state = case.state
        note = (kw.get("note") or "").strip()
        reason = (kw.get("reason") or "").strip()
        data: dict = {}
        override = None
        name = m.name
        if name == "accept":
            case.number = case.number or self._number(at)
            case.accepted_at = at
            d.start_stage(case, "dispatch", at)
            data = {"number": case.number, "category": case.category.code}
        elif name in ("reject", "close", "void"):
            if name == "void":
                self._cancel_pending(sim, at, "案件已作废")
            case.closed_at = at
            d.stop_clock(case)
        elif name == "dispatch":
            dept = kw["department"]
            after_return = case.returned
            revoked = self._assign(sim, dept, at, "案件已改派，延期申请自动失效")
            data = {
                "department": dept.pk,
                "department_name": dept.name,
                "after_return": after_return or None,
                "previous_department": revoked[0] if after_return and revoked else None,
            }
        elif name == "sign":
            data = {"department": case.department_id}
        elif name == "return":
            old = case.department
            case.department = None
            case.returned = True
            self._cancel_pending(sim, at, "案件已退回，延期申请自动失效")
            d.start_stage(case, "dispatch", at)
            data = {"department": old.pk, "department_name": old.name}
        elif name == "reassign":
            dept = kw["department"]
            old = case.department
            kept = case.extension_amount if case.stage == "handle" else 0
            self._assign(sim, dept, at, "案件已改派，延期申请自动失效", extension=kept)
            data = {
                "department": dept.pk,
                "department_name": dept.name,
                "previous_department": old.pk if old else None,
                "previous_department_name": old.name if old else "",
                "extension_kept": kept or None,
            }
        elif name == "finish":
            case.handling_feedback = note
            case.handled_at = at
            self._cancel_pending(sim, at, "已处置完成，延期申请自动失效")
            d.start_stage(case, "verify", at)
        elif name == "verify_fail":
            case.rework_count += 1
            case.handled_at = None
            d.start_stage(case, "handle", at)
            data = {"rework_count": case.rework_count}
        elif name == "rate":
            case.rating = kw["rating"]
            if kw.get("redo"):
                dept = case.department
                case.redo_count += 1
                case.closed_at = None
                case.handled_at = None
                self._assign(sim, dept, at, "案件已改派，延期申请自动失效")
                override = "dispatched"
                data = {"rating": case.rating, "redo": True, "department": dept.pk}
            else:
                data = {"rating": case.rating}
        elif name == "request_extension":
            req = ExtensionRequest(
                stage=case.stage,
                amount=kw["amount"],
                unit=kw["unit"],
                reason=reason,
                requested_by=actor,
                requested_at=at,
            )
            sim.extensions.append(req)
            sim.pending = req
            data = {"extension_request": _Ref(req), "amount": req.amount, "unit": req.unit}
        elif name in ("approve_extension", "deny_extension"):
            req = sim.pending
            approve = name == "approve_extension"
            req.status = "approved" if approve else "denied"
            req.decided_by = actor
            req.decided_at = at
            req.decision_note = note or reason
            if approve:
                d.add_extension(case, req.amount)
            sim.pending = None
            data = {
                "extension_request": _Ref(req),
                "amount": req.amount,
                "unit": req.unit,
                "approved": approve,
            }
        elif name == "suspend":
            case.suspended_from = case.state
            d.pause(case, at)
            data = {"suspended_from": case.suspended_from}
        elif name == "resume":
            d.unpause(case, at)
            override = case.suspended_from or "accepted"
            case.suspended_from = ""
            data = {"resumed_to": override}
        elif name == "merge":
            target: _Sim = kw["target_case"]
            sim.merge_into = target
            case.closed_at = at
            d.stop_clock(case)
            data = {
                "target_case": _Ref(target.case),
                "target_number": target.case.number or _Ref(target.case, fmt=lambda pk: f"#{pk}"),
            }
        elif name == "supervise":
            case.supervise_count += 1
            priority_from = case.priority  # (not ``before``: that is the audit snapshot)
            case.priority = self.services.supervised_priority(priority_from)
            data = {
                "priority": case.priority,
                "priority_from": priority_from if case.priority != priority_from else None,
                "supervise_count": case.supervise_count,
            }
        elif name != "verify_pass":  # pragma: no cover - every scripted move is handled above
            raise ValueError(f"bulk engine cannot play {name}")
        if m.target != wf.STAY:
            case.state = wf.target_state(m, from_state, case.suspended_from)
        if override:
            case.state = override
        d.refresh(case, at)
        case.version += 1
        case.updated_at = at
        data = {k: v for k, v in {**data, "reason": reason or None}.items() if v not in (None, "")}
        idx = self._event(
            sim, move=name, from_state=from_state, actor=actor, at=at, note=note or reason, data=data
        )
        if photo is not None:
            sim.attachments.append((idx, "after", photo, actor, at))
        self._moved(sim, name, actor, at, before, note or reason, data, kw)

    # -- insert --

    def write(self, templates: list) -> dict:
        """Insert every simulated case with its timeline. Call inside ``transaction.atomic()``."""
        from civicgrid.cases.models import (
            Attachment,
            Case,
            CaseDepartment,
            CaseEvent,
            CaseNumberCounter,
            ExtensionRequest,
        )
        from civicgrid.core.bulk import SetBasedInserter

        sims = self.sims
        fields = [f.attname for f in Case._meta.concrete_fields if not f.primary_key]
        case_ids = SetBasedInserter(Case).insert([{k: s.case.__dict__[k] for k in fields} for s in sims])
        for s, case_id in zip(sims, case_ids, strict=True):
            s.case.pk = case_id
            s.case._state.adding = False
        merged = []
        for s in sims:
            if s.merge_into is not None:
                s.case.duplicate_of = s.merge_into.case
                merged.append(s.case)
        if merged:
            Case.objects.bulk_update(merged, ["duplicate_of"], batch_size=500)
        extensions = []
        for s in sims:
            for req in s.extensions:
                req.case = s.case
                extensions.append(req)
        ExtensionRequest.objects.bulk_create(extensions, batch_size=500)
        events = []
        for s in sims:
            for e in s.events:
                e["case_id"] = s.case.pk
                e["data"] = {k: (v.resolve() if isinstance(v, _Ref) else v) for k, v in e["data"].items()}
                events.append(e)
        event_ids = SetBasedInserter(CaseEvent).insert(events)
        for e, event_id in zip(events, event_ids, strict=True):
            e["id"] = event_id
        attachments = []
        for s in sims:
            for idx, kind, photo, actor, at in s.attachments:
                t = templates[photo]
                attachments.append(
                    {
                        "case_id": s.case.pk,
                        "event_id": s.events[idx]["id"],
                        "kind": kind,
                        "file": t.file.name,
                        "thumbnail": t.thumbnail.name,
                        "original_name": f"{'现场' if kind == 'before' else '处置'}照片{photo + 1}.jpg",
                        "content_type": t.content_type,
                        "size": t.size,
                        "sha256": t.sha256,
                        "width": t.width,
                        "height": t.height,
                        "uploaded_by_id": actor.pk,
                        "created_at": at,
                    }
                )
        SetBasedInserter(Attachment, take_ids=False).insert(attachments)
        SetBasedInserter(CaseDepartment, take_ids=False).insert(
            [
                {
                    "case_id": s.case.pk,
                    "department_id": dept_id,
                    "first_assigned_at": at,
                    "revoked_at": s.revoked.get(dept_id),
                }
                for s in sims
                for dept_id, at in s.departments.items()
            ]
        )
        existing = dict(CaseNumberCounter.objects.values_list("day", "last"))
        new_days = [CaseNumberCounter(day=d, last=n) for d, n in self.counters.items() if d not in existing]
        CaseNumberCounter.objects.bulk_create(new_days, batch_size=1000)
        for day, last in self.counters.items():
            if day in existing and existing[day] < last:
                CaseNumberCounter.objects.filter(day=day).update(last=last)
        return {"cases": len(sims), "events": len(events), "attachments": len(attachments)}


class RecentHistoryEngine(HistoryEngine):
    """The bulk engine for the recent weeks, which also leaves what the services and the light job leave.

    Besides the case rows: one audit row per move (``cases.case.<move>``, the before/after diff of the case as
    :func:`civicgrid.cases.services.perform` records it), the in-app notifications each move sends (派遣, 改派 —
    the department that loses the case is told and its unread notices about it are cleared —, 退回, 返工,
    延期申请/审批, 督办: same recipients, texts and read marks), and the yellow/red notifications of the light job
    (:func:`civicgrid.cases.jobs.refresh_lights`), which runs every two hours from ``tick_from``: a case is
    notified at the first run after it entered yellow or red in a stage. Everything is inserted set-based, so
    a couple of months of cases take seconds instead of a minute of one-by-one service calls.
    """

    name = "recent"
    LIGHT_RANK = {"": 0, "green": 0, "yellow": 1, "red": 2}
    RUNNING = _RUNNING

    def __init__(self, *, tick_from: datetime, now: datetime):
        super().__init__()
        from django.core.serializers.json import DjangoJSONEncoder

        from civicgrid.accounts.models import User
        from civicgrid.core import audit, workcalendar

        self.audit, self.wc = audit, workcalendar
        self.tick_from, self.now = tick_from, now
        self.by_role: dict = defaultdict(list)
        self.by_department: dict = defaultdict(list)
        for user in User.objects.filter(is_active=True, is_system=False).order_by("pk"):
            self.by_role[user.role].append(user)
            if user.role == "dept_handler" and user.department_id:
                self.by_department[user.department_id].append(user)
        self.audits: list = []  # (sim, action, actor, at, before, after, note)
        # audit.snapshot(case) without its JSON round trip: the same keys, datetimes as DjangoJSONEncoder writes them
        self._snap_fields = [
            (f.attname if f.is_relation else f.name, f.attname, f.get_internal_type() == "DateTimeField")
            for f in self.Case._meta.concrete_fields
            if f.name not in audit._SKIP_FIELDS and "hash" not in f.name
        ]
        self._encode = DjangoJSONEncoder().default
        self.notices: list = []  # (sim, users, kind, text, at)
        self._notices_of: dict = defaultdict(list)  # id(sim) → indexes into self.notices
        self.read_at: dict = {}  # (notice index, user id) → when it was marked read

    def _add_notice(self, notice: tuple) -> None:
        self._notices_of[id(notice[0])].append(len(self.notices))
        self.notices.append(notice)

    def _assign(self, sim: _Sim, dept, at: datetime, note: str, extension: int = 0) -> list[int]:
        """As ``services._assign``: the departments that lose the case have their unread notices about it
        cleared (their work items) and are told it went elsewhere."""
        revoked = super()._assign(sim, dept, at, note, extension)
        if revoked:
            gone = set(revoked)
            for idx in self._notices_of[id(sim)]:
                for user in self.notices[idx][1]:
                    if (
                        user is not None
                        and user.role == "dept_handler"
                        and user.department_id in gone
                        and (idx, user.pk) not in self.read_at
                    ):
                        self.read_at[(idx, user.pk)] = at
            text = f"案件 {sim.case.number} 已改派给「{dept.name}」，贵部门不再办理"
            users = [u for d in revoked for u in self.by_department[d]]
            self._add_notice((sim, users, "reassigned", text, at))
        return revoked

    # -- what the light job would have notified --

    def _next_tick(self, t: datetime) -> datetime:
        if t <= self.tick_from:
            return self.tick_from
        runs = math.ceil((t - self.tick_from) / JOB_EVERY)
        return self.tick_from + runs * JOB_EVERY

    def _job_until(self, sim: _Sim, until: datetime, *, inclusive: bool = False) -> None:
        """Play the light job's runs before ``until`` on ``sim`` (its state holds since its last move)."""
        case, d = sim.case, self.deadlines
        rank = self.LIGHT_RANK
        if case.state not in self.RUNNING or case.paused_since is not None or not case.stage:
            return
        if not case.budget_seconds:
            return
        while rank.get(case.last_notified_light, 0) < 2:
            share = 0.8 if rank.get(case.last_notified_light, 0) < 1 else 1.0
            enters = self.wc.advance(
                case.limit_unit,
                case.clock_started_at,
                share * case.budget_seconds + case.paused_measure_seconds,
            ).due
            tick = self._next_tick(enters)
            light = d.compute_light(case, tick)
            if rank.get(light, 0) <= rank.get(case.last_notified_light, 0):  # exactly at the edge: next run
                tick += JOB_EVERY
                light = d.compute_light(case, tick)
            if tick > until or (tick == until and not inclusive):
                return
            if rank.get(light, 0) <= rank.get(case.last_notified_light, 0):
                return
            case.last_notified_light = light
            if light == "red":
                case.is_overdue = True
            self._notify_light(sim, light, tick)

    def _notify_light(self, sim: _Sim, light: str, at: datetime) -> None:
        from civicgrid.cases.jobs import light_text

        case = sim.case
        text = light_text(case, light)
        users = list(self.by_department[case.department_id]) if case.stage == "handle" else []
        users += self.by_role["dispatcher"]
        if light == "red":
            users += self.by_role["shift_leader"]
        self._add_notice((sim, users, light, text, at))

    # -- hooks --

    def _snapshot(self, case) -> dict:
        values, encode = case.__dict__, self._encode
        return {
            key: (encode(values[name]) if is_dt and values[name] is not None else values[name])
            for key, name, is_dt in self._snap_fields
        }

    def _created(self, sim: _Sim, actor, at: datetime) -> None:
        self.audits.append((sim, "cases.case.create", actor, at, None, self._snapshot(sim.case), ""))

    def _before_move(self, sim: _Sim, at: datetime):
        self._job_until(sim, at)
        # the light as the job's last run before this move stored it (if it ran since the case's last move)
        case = sim.case
        if case.state in _RUNNING and case.paused_since is None and case.stage and at > self.tick_from:
            last_run = self._next_tick(at) - JOB_EVERY
            if last_run > sim.events[-1]["at"]:
                self.deadlines.refresh(case, last_run)  # light, and the sticky is_overdue when red
        return self._snapshot(sim.case)

    def _moved(
        self, sim: _Sim, name: str, actor, at: datetime, before, note: str, data: dict, kw: dict
    ) -> None:
        case = sim.case
        b, a = self.audit.diff(before, self._snapshot(case))
        self.audits.append((sim, f"cases.case.{name}", actor, at, b, a, note))
        dept_members = self.by_department[case.department_id]
        desk = self.by_role["dispatcher"] + self.by_role["shift_leader"]
        number = case.number
        reason = (kw.get("reason") or "").strip()
        if name in ("dispatch", "reassign") or (name == "rate" and kw.get("redo")):
            self._add_notice((sim, dept_members, "dispatched", f"新派遣案件 {number}：{case.title}", at))
        elif name == "return":
            text = f"案件 {number} 被「{data.get('department_name', '')}」退回：{reason}"
            self._add_notice((sim, desk, "returned", text, at))
        elif name == "verify_fail":
            text = f"案件 {number} 核查未通过，请返工：{reason}"
            self._add_notice((sim, dept_members, "rework", text, at))
        elif name == "request_extension":
            text = f"案件 {number} 申请延期 {kw['amount']} {case.get_limit_unit_display()}：{reason}"
            self._add_notice((sim, self.by_role["shift_leader"], "extension_request", text, at))
        elif name in ("approve_extension", "deny_extension"):
            verdict = "已批准" if name == "approve_extension" else "未批准"
            requester = sim.extensions[-1].requested_by
            text = f"案件 {number} 的延期申请{verdict}"
            self._add_notice((sim, [requester], "extension_decided", text, at))
        elif name == "supervise":
            text = f"案件 {number} 被督办：{note}"
            self._add_notice((sim, dept_members + desk, "supervise", text, at))

    # -- insert --

    def write(self, templates: list) -> dict:
        from civicgrid.cases.models import Notification
        from civicgrid.core.bulk import SetBasedInserter
        from civicgrid.core.models import AuditLog

        for sim in self.sims:  # the light job's runs from each case's last move up to now
            self._job_until(sim, self.now, inclusive=True)
        written = super().write(templates)
        audit_rows = []
        for sim, action, actor, at, before, after, note in self.audits:
            case = sim.case
            if action == "cases.case.create":
                after["id"] = case.pk
            elif action == "cases.case.merge":  # the link is set at insert time
                before["duplicate_of_id"], after["duplicate_of_id"] = None, sim.merge_into.case.pk
            audit_rows.append(
                {
                    "at": at,
                    "actor_id": actor.pk,
                    "actor_username": actor.get_username()[:150],
                    "actor_role": actor.role or "",
                    "action": action,
                    "object_type": "cases.case",
                    "object_id": str(case.pk),
                    "object_repr": (case.number or f"待受理#{case.pk}")[:200],
                    "before": before,
                    "after": after,
                    "note": note,
                    "ip": None,
                }
            )
        from civicgrid.places.selectors import same_tier

        notices = []
        for idx, (sim, users, kind, text, at) in enumerate(self.notices):
            seen: set = set()
            for user in users:
                if user is None or user.pk in seen:
                    continue
                if not same_tier(user, sim.case.street_id):
                    continue  # as cases.notifications.notify: only the case's tier hears of it
                seen.add(user.pk)
                notices.append(
                    {
                        "user_id": user.pk,
                        "case_id": sim.case.pk,
                        "kind": kind,
                        "text": text[:300],
                        "created_at": at,
                        "read_at": self.read_at.get((idx, user.pk)),
                    }
                )
        SetBasedInserter(AuditLog, take_ids=False).insert(audit_rows)
        SetBasedInserter(Notification, take_ids=False).insert(notices)
        return {**written, "audit": len(audit_rows), "notifications": len(notices)}
