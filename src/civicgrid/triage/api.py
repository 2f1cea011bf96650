"""智能分拨 API (/api/v1/triage): a suggestion for a text or a case (the desk roles that 受理/派遣), the keyword
lists and the stored model versions (system administrator)."""

from __future__ import annotations

from ninja import Router, Schema
from pydantic import Field

from civicgrid.cases import selectors as case_selectors
from civicgrid.cases.models import Category
from civicgrid.core.errors import ValidationFailed
from civicgrid.core.validation import Id, Text
from civicgrid.triage import modelstore, selectors, services

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
                and services.auto_dispatch_threshold() is not None
                and row.confidence >= services.auto_dispatch_threshold()
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
