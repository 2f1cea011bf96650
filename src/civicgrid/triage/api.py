"""智能分拨 API (/api/v1/triage): a suggestion for a text or a case (the desk roles that 受理/派遣), the
near-duplicates of a case with merge / dismiss, the keyword lists, the stored model versions and the per-街道
auto-dispatch setting (system administrator)."""

from __future__ import annotations

from ninja import Router, Schema
from pydantic import Field

from civicgrid.cases import selectors as case_selectors
from civicgrid.cases.models import Category
from civicgrid.core.errors import NotFound, ValidationFailed
from civicgrid.core.validation import Id, Text
from civicgrid.places.models import Street
from civicgrid.triage import modelstore, selectors, services
from civicgrid.triage.models import DuplicateCandidate

router = Router(tags=["智能分拨"])


class SuggestIn(Schema):
    title: Text = Field("", max_length=200, description="诉求标题")
    description: Text = Field("", max_length=5000, description="诉求内容")
    case: Id | None = Field(
        None, description="工单 id：给出时按该工单的标题和内容建议并记录（标题/内容可不填）"
    )


class ItemOut(Schema):
    category: int = Field(description="分类 id")
    code: str
    name: str
    major: str = Field(description="大类名称")
    score: float = Field(description="置信度 0–1（模型：校准后的概率；关键词：得分占比）")
    terms: list[str] = Field(description="促成该建议的词")


class TriageDepartmentOut(Schema):
    id: int
    name: str


class SuggestOut(Schema):
    items: list[ItemOut] = Field(description="前 3 个建议分类，按置信度从高到低")
    department: TriageDepartmentOut | None = Field(description="第一建议分类的默认处置部门")
    source: str = Field(description="model（学习模型）或 keywords（冷启动关键词）")
    model_version: str
    confidence: float
    auto_dispatch: bool = Field(description="是否达到自动派遣阈值（默认关闭时总是 false）")
    suggestion: int | None = Field(None, description="按工单建议时的记录 id")


@router.post("/suggest", response=SuggestOut, summary="分类与处置部门建议")
def suggest(request, body: SuggestIn):
    user = request.auth
    selectors.require_classifier(user)
    if body.case is not None:
        case = case_selectors.get_case(user=user, pk=body.case)
        row = services.suggest_for_case(actor=user, case=case)
        return {
            "items": [{**i, "major": i.get("major", "")} for i in row.items],
            "department": {"id": row.department.pk, "name": row.department.name} if row.department else None,
            "source": row.source,
            "model_version": row.model_version,
            "confidence": row.confidence,
            "auto_dispatch": bool(
                row.source == "model"
                and (t := services.auto_dispatch_threshold(case.street if case.street_id else None))
                is not None
                and row.confidence >= t
            ),
            "suggestion": row.pk,
        }
    text = "\n".join(t for t in (body.title.strip(), body.description.strip()) if t)
    if not text:
        raise ValidationFailed("请填写诉求标题或内容", field="description")
    s = services.suggest(text=text)
    return {
        "items": [
            {
                "category": i.category_id,
                "code": i.code,
                "name": i.name,
                "major": i.major,
                "score": i.score,
                "terms": i.terms,
            }
            for i in s.items
        ],
        "department": {"id": s.department.pk, "name": s.department.name} if s.department else None,
        "source": s.source,
        "model_version": s.model_version,
        "confidence": s.confidence,
        "auto_dispatch": s.auto_dispatch,
    }


class KeywordsOut(Schema):
    category: int
    code: str
    name: str
    words: list[str]
    weight: float


class KeywordsIn(Schema):
    words: list[Text] = Field(max_length=200, description="关键词（每个最多 30 字）")
    weight: float = Field(2.0, gt=0, le=10)


def _kw_out(k) -> dict:
    return {
        "category": k.category_id,
        "code": k.category.code,
        "name": k.category.name,
        "words": k.word_list(),
        "weight": k.weight,
    }


@router.get("/keywords", response=list[KeywordsOut], summary="分拨关键词（系统管理员）")
def list_keywords(request):
    selectors.require_admin(request.auth)
    return [_kw_out(k) for k in selectors.keyword_lists()]


@router.put("/keywords/{category_id}", response=KeywordsOut, summary="设置一个分类的分拨关键词（系统管理员）")
def put_keywords(request, category_id: Id, body: KeywordsIn):
    selectors.require_admin(request.auth)
    category = Category.objects.filter(pk=category_id).first()
    if category is None:
        raise ValidationFailed("分类不存在", field="category")
    row = services.save_keywords(
        actor=request.auth, category=category, words=list(body.words), weight=body.weight
    )
    return _kw_out(row)


class ModelOut(Schema):
    version: str
    size_bytes: int
    current: bool
    n: int | None = None
    labels: int | None = None
    cv_accuracy: float | None = None
    cv_macro_f1: float | None = None
    source: str = ""
    trained_at: str = ""


@router.get("/models", response=list[ModelOut], summary="已存储的分拨模型版本（系统管理员）")
def list_models(request):
    selectors.require_admin(request.auth)
    from civicgrid.triage import engine

    vs = modelstore.versions()
    out = []
    for v in reversed(vs):
        row = {"version": v.name, "size_bytes": v.path.stat().st_size, "current": v is vs[-1]}
        try:
            m = engine.Model.load(v.path)
        except Exception:
            out.append(row)
            continue
        row.update(
            n=m.meta.get("n"),
            labels=len(m.labels),
            cv_accuracy=m.meta.get("cv_accuracy"),
            cv_macro_f1=m.meta.get("cv_macro_f1"),
            source=m.meta.get("source", ""),
            trained_at=m.meta.get("trained_at", ""),
        )
        out.append(row)
    return out


# --- 合并 -------------------------------------------------------------------------------------------


class DuplicateReasonsOut(Schema):
    distance_m: int | None = Field(None, description="两处位置相距（米）；无坐标时为空")
    text_similarity: float = Field(description="诉求内容相似度 0–1（rapidfuzz）")
    address_similarity: float | None = Field(None, description="地址相似度 0–1")
    same_grid: bool = Field(description="同一网格")
    neighbour_grid: bool = Field(description="相邻网格")
    same_family: bool | None = Field(None, description="同一大类（未分类时为空）")
    same_category: bool | None = Field(None, description="同一小类（未分类时为空）")


class DuplicateOut(Schema):
    id: int
    case: int = Field(description="新工单 id")
    candidate: int = Field(description="较早的疑似重复工单 id（合并时保留为主工单）")
    candidate_number: str
    candidate_state: str
    candidate_description: str
    score: float
    reasons: DuplicateReasonsOut
    status: str = Field(description="pending 待确认 / merged 已合并 / dismissed 不是重复")
    mergeable: bool = Field(description="现在能否一键合并")


class DismissIn(Schema):
    note: Text = Field("", max_length=200, description="说明（可不填）")


def _dup_out(row: DuplicateCandidate, mergeable: bool) -> dict:
    c = row.candidate
    return {
        "id": row.pk,
        "case": row.case_id,
        "candidate": c.pk,
        "candidate_number": c.display_number,
        "candidate_state": c.get_state_display(),
        "candidate_description": c.description[:300],
        "score": row.score,
        "reasons": {
            "same_grid": False,
            "neighbour_grid": False,
            "text_similarity": 0.0,
            **(row.reasons or {}),
        },
        "status": row.status,
        "mergeable": mergeable,
    }


def _row(user, pk: int) -> DuplicateCandidate:
    selectors.require_classifier(user)
    row = DuplicateCandidate.objects.filter(pk=pk).select_related("candidate").first()
    if row is None:
        raise NotFound("疑似重复记录不存在")
    case_selectors.get_case(user=user, pk=row.case_id)  # 404 outside the user's scope
    return row


@router.get("/cases/{case_id}/duplicates", response=list[DuplicateOut], summary="工单的疑似重复工单")
def list_duplicates(request, case_id: Id):
    user = request.auth
    selectors.require_classifier(user)
    case = case_selectors.get_case(user=user, pk=case_id)
    rows = selectors.duplicates_for(user=user, case=case)
    return [_dup_out(r, selectors.mergeable(user=user, row=r)) for r in rows]


@router.post("/duplicates/{dup_id}/merge", response=DuplicateOut, summary="合并：新工单并入较早的工单")
def merge_duplicate(request, dup_id: Id):
    row = _row(request.auth, dup_id)
    services.merge_duplicate(actor=request.auth, row=row)
    row.refresh_from_db()
    return _dup_out(row, False)


@router.post("/duplicates/{dup_id}/dismiss", response=DuplicateOut, summary="不是重复")
def dismiss_duplicate(request, dup_id: Id, body: DismissIn):
    row = _row(request.auth, dup_id)
    row = services.dismiss_duplicate(actor=request.auth, row=row, note=body.note)
    return _dup_out(row, False)


class StreetSettingIn(Schema):
    auto_dispatch: bool = Field(description="是否开启自动派遣")
    threshold: float = Field(0.9, gt=0, le=1, description="置信度阈值")


class StreetSettingOut(Schema):
    street: int
    street_name: str
    auto_dispatch: bool
    threshold: float


@router.put(
    "/streets/{street_id}/auto-dispatch", response=StreetSettingOut, summary="街道自动派遣设置（系统管理员）"
)
def put_street_setting(request, street_id: Id, body: StreetSettingIn):
    selectors.require_admin(request.auth)
    street = Street.objects.filter(pk=street_id).first()
    if street is None:
        raise NotFound("街道不存在")
    row = services.save_street_setting(
        actor=request.auth, street=street, auto_dispatch=body.auto_dispatch, threshold=body.threshold
    )
    return {
        "street": street.pk,
        "street_name": street.name,
        "auto_dispatch": row.auto_dispatch,
        "threshold": row.threshold,
    }
