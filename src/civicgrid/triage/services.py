"""Every write of 智能分拨 and the suggestion itself.

* :func:`suggest` — top-3 categories (scores, the terms behind each) and the department, from the newest learned
  model when it knows this deployment's categories, else from the cold-start keyword catalogue. A pure read.
* :func:`suggest_for_case` — the same for a case, recorded (:class:`TriageSuggestion`) unless the case text has
  not changed since the last pending record; :func:`pick` records the suggestion the dispatcher clicked;
  :func:`record_final` (from the case event of 受理/派遣/改派) records the category and department finally used.
* :func:`save_keywords` — an administrator's keyword list of a category.
* :func:`train_from_cases` — fit, cross-validate and store a new model version on the closed cases.
* :func:`auto_dispatch` — 受理 + 派遣 without a person, only when enabled (per 街道: :class:`StreetTriageSetting`;
  else ``CIVICGRID_TRIAGE_AUTO_DISPATCH``, a confidence between 0 and 1; default off) and the learned model is at
  least that confident; :func:`on_intake` runs it (and the duplicate check) for every new case.
* 合并: :func:`detect_duplicates` (intake) records the earlier cases that look like the same problem;
  :func:`merge_duplicate` merges the later case into the earlier one with the engine's ``merge`` move;
  :func:`dismiss_duplicate` records "not a duplicate"; :func:`tell_duplicates` posts the master's progress on the
  timeline of every case merged into it (a public note: the resident's tracking page, Open311 updates).
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import transaction

from civicgrid.accounts.models import Department, User
from civicgrid.cases import selectors as case_selectors
from civicgrid.cases import services as case_services
from civicgrid.cases.models import Case, CaseState, Category
from civicgrid.core import audit, clock, revisions
from civicgrid.core.errors import PermissionDenied, ValidationFailed
from civicgrid.core.roles import Role
from civicgrid.triage import duplicates, engine, modelstore, selectors
from civicgrid.triage.models import (
    DuplicateCandidate,
    DuplicateStatus,
    Outcome,
    StreetTriageSetting,
    TriageKeyword,
    TriageSuggestion,
    split_words,
)

log = logging.getLogger(__name__)

MAX_TEXT = 5000
MAX_KEYWORDS = 200


@dataclass
class Item:
    category_id: int
    code: str
    name: str
    major: str
    score: float
    terms: list[str]
    department_id: int | None = None


@dataclass
class Suggestion:
    items: list[Item]
    source: str  # "model" | "keywords"
    model_version: str = ""
    department: Department | None = None
    confidence: float = 0.0
    auto_dispatch: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def top(self) -> Item | None:
        return self.items[0] if self.items else None


def auto_dispatch_threshold(street=None) -> float | None:
    """The confidence at or above which a case may be dispatched without a person; ``None``: never (default).
    A 街道's own setting (:class:`StreetTriageSetting`) wins over the deployment-wide one."""
    if street is not None:
        row = StreetTriageSetting.objects.filter(street=street).first()
        if row is not None:
            return row.threshold if row.auto_dispatch and 0 < row.threshold <= 1 else None
    raw = settings.CIVICGRID.get("TRIAGE_AUTO_DISPATCH", os.environ.get("CIVICGRID_TRIAGE_AUTO_DISPATCH", ""))
    if raw in (None, "", "0", "off", "false"):
        return None
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return None
    return value if 0 < value <= 1 else None


def _model_labels(model: engine.Model, cat) -> dict[str, object]:
    """The model's labels that are categories of the catalogue (by code, else by name)."""
    by_code = {e.code: e for e in cat.entries}
    by_name: dict[str, object] = {}
    for e in cat.entries:
        by_name.setdefault(e.name, e)
    return {
        lab: by_code.get(lab) or by_name.get(lab)
        for lab in model.labels
        if by_code.get(lab) or by_name.get(lab)
    }


def usable_model():
    """(version, model, label → catalogue entry) of the newest model when most of its labels are categories."""
    version, model = modelstore.current()
    if model is None:
        return None, None, {}
    mapping = _model_labels(model, selectors.catalogue())
    if len(mapping) < max(2, 0.8 * len(model.labels)):
        return version, None, {}
    return version, model, mapping


def suggest(*, text: str, case: Case | None = None) -> Suggestion:
    text = (text or "").strip()
    if not text:
        raise ValidationFailed("请填写诉求标题或内容", field="text")
    if len(text) > MAX_TEXT:
        text = text[:MAX_TEXT]
    cat = selectors.catalogue()
    version, model, mapping = usable_model()
    items: list[Item] = []
    source, model_version = "keywords", ""
    if model is not None:
        source, model_version = "model", version.name
        for label, p, terms in model.explain(text, top=6):
            e = mapping.get(label)
            if e is None or any(i.category_id == e.category_id for i in items):
                continue
            items.append(Item(e.category_id, e.code, e.name, e.major, round(p, 3), terms, e.department_id))
            if len(items) == 3:
                break
    else:
        for e, share, terms in cat.score(text):
            items.append(
                Item(e.category_id, e.code, e.name, e.major, round(share, 3), terms[:5], e.department_id)
            )
    s = Suggestion(items, source, model_version)
    if items:
        s.confidence = items[0].score
        category = Category.objects.filter(pk=items[0].category_id).first()
        s.department = case_services.default_department(category, case) if category else None
        threshold = auto_dispatch_threshold(case.street if case is not None and case.street_id else None)
        s.auto_dispatch = bool(source == "model" and threshold is not None and s.confidence >= threshold)
    else:
        s.notes.append("未识别出明确的分类，请人工选择")
    return s


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _items_json(s: Suggestion) -> list[dict]:
    return [
        {
            "category": i.category_id,
            "code": i.code,
            "name": i.name,
            "major": i.major,
            "score": i.score,
            "terms": i.terms,
        }
        for i in s.items
    ]


def suggest_for_case(*, actor, case: Case) -> TriageSuggestion:
    """The suggestion shown on a case, recorded once per case text and model version."""
    selectors.require_classifier(actor)
    text = selectors.case_text(case)
    digest = _digest(text)
    last = TriageSuggestion.objects.filter(case=case).first()
    _, model, _ = usable_model()
    version = modelstore.current()[0].name if model is not None else ""
    if last is not None and last.text_digest == digest and last.model_version == version:
        return last
    s = suggest(text=text, case=case)
    with transaction.atomic():
        row = TriageSuggestion.objects.create(
            case=case,
            shown_to=actor,
            source=s.source,
            model_version=s.model_version,
            text_digest=digest,
            items=_items_json(s),
            category_id=s.top.category_id if s.top else None,
            department=s.department,
            confidence=s.confidence,
        )
        audit.record(
            actor=actor,
            action="triage.suggest",
            obj=row,
            object_repr=f"{case.display_number} 分拨建议",
            after={"items": [i["code"] for i in row.items], "source": s.source, "version": s.model_version},
        )
    return row


def pick(*, actor, suggestion: TriageSuggestion, category_id: int) -> TriageSuggestion:
    """The dispatcher clicked 采用 on one of the suggested categories (the form is then filled with it)."""
    selectors.require_classifier(actor)
    if category_id not in [i["category"] for i in suggestion.items]:
        raise ValidationFailed("所选分类不在本次建议中", field="category")
    with transaction.atomic():
        before = {"picked_category": suggestion.picked_category_id}
        suggestion.picked_category_id = category_id
        suggestion.picked_by = actor
        suggestion.save(update_fields=["picked_category", "picked_by"])
        audit.record(
            actor=actor,
            action="triage.pick",
            obj=suggestion,
            before=before,
            after={"picked_category": category_id},
        )
    return suggestion


def record_final(*, actor, case: Case, move: str) -> TriageSuggestion | None:
    """After 受理/派遣/改派: the category and department finally used, and whether that was the suggestion.
    Runs inside the case service's transaction (a receiver of the case event)."""
    row = TriageSuggestion.objects.filter(case=case).first()
    if row is None:
        return None
    before = {"final_category": row.final_category_id, "final_department": row.final_department_id}
    row.final_category_id = case.category_id
    if move in ("dispatch", "reassign") and case.department_id:
        row.final_department_id = case.department_id
    if row.final_category_id:
        row.outcome = Outcome.ACCEPTED if row.final_category_id == row.category_id else Outcome.OVERRIDDEN
        row.decided_at = clock.now()
    row.save(update_fields=["final_category", "final_department", "outcome", "decided_at"])
    audit.record(
        actor=actor,
        action="triage.final",
        obj=row,
        before=before,
        after={
            "final_category": row.final_category_id,
            "final_department": row.final_department_id,
            "outcome": row.outcome,
        },
    )
    return row


def save_keywords(*, actor, category: Category, words: str | list[str], weight: float = 2.0) -> TriageKeyword:
    selectors.require_admin(actor)
    wl = split_words("\n".join(words) if isinstance(words, list) else words)
    if len(wl) > MAX_KEYWORDS:
        raise ValidationFailed(f"关键词最多 {MAX_KEYWORDS} 个", field="words")
    bad = [w for w in wl if len(w) > 30]
    if bad:
        raise ValidationFailed(f"关键词「{bad[0][:30]}…」过长（最多 30 字）", field="words")
    if not (0 < weight <= 10):
        raise ValidationFailed("权重须在 0 到 10 之间", field="weight")
    with transaction.atomic():
        row = TriageKeyword.objects.filter(category=category).first()
        before = {"words": row.word_list(), "weight": row.weight} if row else None
        if row is None:
            row = TriageKeyword(category=category)
        row.words = "\n".join(wl)
        row.weight = weight
        row.updated_at = clock.now()
        row.updated_by = actor
        row.save()
        audit.record(
            actor=actor,
            action="triage.keywords.save",
            obj=row,
            object_repr=f"{category.name} 分拨关键词",
            before=before,
            after={"words": wl, "weight": weight},
        )
        revisions.bump(selectors.REVISION)
    return row


def train_from_cases(
    *, actor=None, cfg: engine.Config = engine.DEFAULT
) -> tuple[modelstore.Version, engine.CVResult]:
    """Fit on this deployment's closed cases (their final category) and store the next model version.
    ``actor=None`` is the server command line (``civicgrid triage train``)."""
    if actor is not None:
        selectors.require_admin(actor)
    texts, labels = selectors.training_rows()
    cat = selectors.catalogue()
    model, cv = engine.train(texts, labels, cfg, user_words=[t for e in cat.entries for t in e.terms])
    model.meta.update(source="cases", label_kind="category", trained_at=clock.now().isoformat())
    version = modelstore.save(model)
    with transaction.atomic():
        audit.record(
            actor=actor,
            action="triage.train",
            object_type="triage.model",
            object_id=version.name,
            object_repr=f"分拨模型 {version.name}",
            after={
                "n": len(labels),
                "accuracy": round(cv.report.accuracy, 4),
                "macro_f1": round(cv.report.macro_f1, 4),
            },
        )
    return version, cv


def auto_dispatch(*, actor, case: Case) -> TriageSuggestion | None:
    """受理 and 派遣 a reported case on the learned model's suggestion — only when auto-dispatch is enabled and the
    model's calibrated confidence reaches the threshold (never on the cold start, never without a department).
    Returns the recorded suggestion when the case was dispatched, else ``None`` (the case waits for a person)."""
    threshold = auto_dispatch_threshold(case.street if case.street_id else None)
    if threshold is None or case.state != CaseState.REPORTED:
        return None
    if not selectors.may_classify(actor):
        raise PermissionDenied("当前角色不能派遣", code="forbidden")
    row = suggest_for_case(actor=actor, case=case)
    if (
        row.source != "model"
        or row.confidence < threshold
        or row.category_id is None
        or row.department is None
    ):
        return None
    case = case_services.perform(
        actor=actor,
        case=case,
        move="accept",
        version=case.version,
        category=row.category,
        note=f"智能分拨自动受理（置信度 {row.confidence:.2f}）",
    )
    case = case_services.perform(
        actor=actor,
        case=case,
        move="dispatch",
        version=case.version,
        department=row.department,
        note=f"智能分拨自动派遣（置信度 {row.confidence:.2f}）",
    )
    TriageSuggestion.objects.filter(pk=row.pk).update(auto_dispatched=True)
    row.refresh_from_db()
    return row


# --- the system actor, the intake hook ------------------------------------------------------------

SYSTEM_USERNAME = "triage_system"


def system_actor(street) -> User:
    """The service account of 智能分拨 in ``street`` (a 指挥中心 role of that 街道; cannot log in, is not listed)."""
    username = f"{SYSTEM_USERNAME}_{street.code}" if street is not None else SYSTEM_USERNAME
    user = User.objects.filter(username=username).first()
    if user is not None:
        return user
    with transaction.atomic():
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "full_name": "智能分拨",
                "role": Role.DISPATCHER,
                "is_active": True,
                "is_system": True,
                "street": street,
            },
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
            audit.record(
                actor=None,
                action="triage.service_account",
                obj=user,
                after={"username": username},
                note="智能分拨自动派遣与合并进度通知使用的系统账号（不可登录）",
            )
    return user


INTAKE_JOB = "triage.intake"
INTAKE_INTERVAL_SECONDS = 5.0
# a case is looked at once it is this old: a transaction that took longer to commit than a later one did is
# still seen (the round follows case ids, which are handed out before commit)
INTAKE_SETTLE_SECONDS = 3.0
INTAKE_BATCH = 2000


def process_intake(*, settle_seconds: float = INTAKE_SETTLE_SECONDS, limit: int = INTAKE_BATCH) -> dict:
    """One intake round (the periodic job ``triage.intake``, every few seconds): every case created since the
    last round goes through :func:`on_intake` — the duplicate check, then the auto-dispatch hook. Off the request
    path: a burst of identical complaints (each one a candidate of all the others) must not slow intake down.
    The first round on a database starts from the cases of the last hour."""
    from civicgrid.triage.models import IntakeCursor

    now = clock.now()
    cursor = IntakeCursor.objects.filter(name="intake").first()
    if cursor is None:
        start = (
            Case.objects.filter(created_at__lt=now - timedelta(hours=1))
            .order_by("-pk")
            .values_list("pk", flat=True)
        ).first() or 0
        cursor = IntakeCursor.objects.create(name="intake", last_case_id=start, updated_at=now)
    cases = list(
        Case.objects.filter(
            pk__gt=cursor.last_case_id, created_at__lte=now - timedelta(seconds=settle_seconds)
        )
        .select_related("category", "street")
        .order_by("pk")[:limit]
    )
    failed = 0
    for case in cases:
        try:
            on_intake(case=case)
        except Exception:  # never hold up the round (nor lose the cursor) for one case
            failed += 1
            log.exception("triage: the intake check of case %s failed", case.pk)
    if cases:
        IntakeCursor.objects.filter(name="intake").update(last_case_id=cases[-1].pk, updated_at=now)
    return {"cases": len(cases), "failed": failed}


def on_intake(*, case: Case) -> None:
    """After a new case committed (every channel): look for near-duplicates, then — only when no duplicate was
    found and the 街道 enabled it — let the learned model 受理 + 派遣 it."""
    if case.closed_at is not None:
        return  # filed already closed (a 12345 history import): nothing to merge into or dispatch
    found = detect_duplicates(actor=None, case=case) if duplicates.enabled() else []
    if found:
        return
    if auto_dispatch_threshold(case.street if case.street_id else None) is None:
        return
    auto_dispatch(actor=system_actor(case.street if case.street_id else None), case=case)


# --- 合并 -------------------------------------------------------------------------------------------


def detect_duplicates(*, actor=None, case: Case) -> list[DuplicateCandidate]:
    """Record the earlier cases that look like the same problem as ``case`` (``actor=None``: the intake hook).
    A pair already decided (merged / dismissed) keeps its decision."""
    found = duplicates.STORE.check(case)
    if not found:
        return []
    rows = []
    with transaction.atomic():
        for other, cand in found:
            row, created = DuplicateCandidate.objects.get_or_create(
                case=case,
                candidate=other,
                defaults={"score": cand.score, "reasons": cand.reasons()},
            )
            if not created and row.status == DuplicateStatus.PENDING:
                row.score, row.reasons = cand.score, cand.reasons()
                row.save(update_fields=["score", "reasons"])
            rows.append(row)
        audit.record(
            actor=actor,
            action="triage.duplicates",
            obj=case,
            object_repr=f"{case.display_number} 疑似重复",
            after={"candidates": [[r.candidate_id, round(r.score, 3)] for r in rows]},
        )
    return rows


def _decidable(actor, row: DuplicateCandidate) -> tuple[Case, Case]:
    selectors.require_classifier(actor)
    case = case_selectors.get_case(user=actor, pk=row.case_id)  # NotFound outside the actor's scope
    master = case_selectors.get_case(user=actor, pk=row.candidate_id)
    if row.status != DuplicateStatus.PENDING:
        raise ValidationFailed(f"该疑似重复已处理（{row.get_status_display()}）", field="status")
    return case, master


def merge_duplicate(*, actor, row: DuplicateCandidate) -> Case:
    """Merge ``row.case`` into ``row.candidate`` (the earlier case stays master) with the engine's ``merge``."""
    case, master = _decidable(actor, row)
    r = row.reasons or {}
    why = [f"相似度 {row.score:.2f}"]
    if r.get("distance_m") is not None:
        why.append(f"相距 {r['distance_m']} 米")
    with transaction.atomic():
        merged = case_services.perform(
            actor=actor,
            case=case,
            move="merge",
            version=case.version,
            target_case=master,
            note=f"与 {master.display_number} 为同一问题，合并（{'，'.join(why)}）",
        )
        now = clock.now()
        DuplicateCandidate.objects.filter(pk=row.pk).update(
            status=DuplicateStatus.MERGED, decided_by=actor, decided_at=now
        )
        # the other candidates of the merged case are moot
        DuplicateCandidate.objects.filter(case=case, status=DuplicateStatus.PENDING).exclude(
            pk=row.pk
        ).update(status=DuplicateStatus.DISMISSED, decided_by=actor, decided_at=now, note="已合并到其他工单")
        audit.record(
            actor=actor,
            action="triage.duplicate.merge",
            obj=row,
            object_repr=f"{case.display_number} → {master.display_number}",
            after={"case": case.pk, "master": master.pk, "score": row.score},
        )
    row.refresh_from_db()
    return merged


def dismiss_duplicate(*, actor, row: DuplicateCandidate, note: str = "") -> DuplicateCandidate:
    """不是重复: recorded (and never offered again for this pair)."""
    _decidable(actor, row)
    note = (note or "").strip()
    if len(note) > 200:
        raise ValidationFailed("说明不能超过 200 字", field="note")
    with transaction.atomic():
        row.status = DuplicateStatus.DISMISSED
        row.decided_by, row.decided_at, row.note = actor, clock.now(), note
        row.save(update_fields=["status", "decided_by", "decided_at", "note"])
        audit.record(
            actor=actor,
            action="triage.duplicate.dismiss",
            obj=row,
            object_repr=f"{row.case_id} ≠ {row.candidate_id}",
            after={"case": row.case_id, "candidate": row.candidate_id, "note": note},
        )
    return row


PROGRESS_MOVES = frozenset(
    {
        "accept",
        "dispatch",
        "reassign",
        "sign",
        "finish",
        "verify_pass",
        "verify_fail",
        "close",
        "rate",
        "suspend",
        "resume",
        "void",
        "reject",
    }
)


def tell_duplicates(*, master: Case, move: str) -> int:
    """The master moved: post its progress on the timeline of every case merged into it (public note: the
    reporters see it on the tracking page / through Open311). Returns how many were told."""
    if move not in PROGRESS_MOVES:
        return 0
    dups = list(Case.objects.filter(duplicate_of=master, state=CaseState.MERGED).select_related("street"))
    if not dups:
        return 0
    state = master.get_state_display()
    text = f"您反映的问题已与工单 {master.display_number} 合并处理，当前进度：{state}"
    if move == "close" and master.handling_feedback:
        text += f"。处理结果：{master.handling_feedback[:200]}"
    for dup in dups:
        case_services.add_public_note(
            actor=system_actor(dup.street if dup.street_id else None),
            case=dup,
            note=text,
            data={"master": master.pk, "master_move": move, "master_state": master.state},
        )
    return len(dups)


def save_street_setting(*, actor, street, auto_dispatch: bool, threshold: float) -> StreetTriageSetting:
    selectors.require_admin(actor)
    try:
        threshold = float(threshold)
    except (TypeError, ValueError):
        raise ValidationFailed("置信度阈值须为 0–1 之间的数", field="threshold") from None
    if not 0 < threshold <= 1:
        raise ValidationFailed("置信度阈值须大于 0 且不超过 1", field="threshold")
    from civicgrid.places.selectors import same_tier

    if not same_tier(actor, street.pk):
        raise PermissionDenied("不能设置其他街道", code="forbidden")
    with transaction.atomic():
        row = StreetTriageSetting.objects.filter(street=street).first()
        before = {"auto_dispatch": row.auto_dispatch, "threshold": row.threshold} if row else None
        row = row or StreetTriageSetting(street=street)
        row.auto_dispatch, row.threshold = bool(auto_dispatch), threshold
        row.updated_at, row.updated_by = clock.now(), actor
        row.save()
        audit.record(
            actor=actor,
            action="triage.street_setting",
            obj=row,
            object_repr=f"{street.name} 自动派遣",
            before=before,
            after={"auto_dispatch": row.auto_dispatch, "threshold": threshold},
        )
    return row
