"""Every write of 智能分拨 and the suggestion itself.

* :func:`suggest` — top-3 categories (scores, the terms behind each) and the department, from the newest learned
  model when it knows this deployment's categories, else from the cold-start keyword catalogue. A pure read.
* :func:`suggest_for_case` — the same for a case, recorded (:class:`TriageSuggestion`) unless the case text has
  not changed since the last pending record; :func:`pick` records the suggestion the dispatcher clicked;
  :func:`record_final` (from the case event of 受理/派遣/改派) records the category and department finally used.
* :func:`save_keywords` — an administrator's keyword list of a category.
* :func:`train_from_cases` — fit, cross-validate and store a new model version on the closed cases.
* :func:`auto_dispatch` — 受理 + 派遣 without a person, only when enabled (``CIVICGRID_TRIAGE_AUTO_DISPATCH``, a
  confidence between 0 and 1; default off) and the learned model is at least that confident.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction

from civicgrid.accounts.models import Department
from civicgrid.cases import services as case_services
from civicgrid.cases.models import Case, CaseState, Category
from civicgrid.core import audit, clock, revisions
from civicgrid.core.errors import PermissionDenied, ValidationFailed
from civicgrid.triage import engine, modelstore, selectors
from civicgrid.triage.models import Outcome, TriageKeyword, TriageSuggestion, split_words

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


def auto_dispatch_threshold() -> float | None:
    """The confidence at or above which a case may be dispatched without a person; ``None``: never (default)."""
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
        threshold = auto_dispatch_threshold()
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
    threshold = auto_dispatch_threshold()
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
