"""Every read of 智能分拨: the cold-start catalogue (cached per process, rebuilt when a category or keyword list
changes), the training rows of this deployment, the suggestions of a case (scoped through the case)."""

from __future__ import annotations

from django.db.models import QuerySet

from civicgrid.accounts.models import Department
from civicgrid.cases import selectors as case_selectors
from civicgrid.cases.models import Case, CaseState, Category
from civicgrid.core import revisions
from civicgrid.core.errors import PermissionDenied
from civicgrid.core.roles import Capability, has_capability
from civicgrid.triage.cold import Catalogue
from civicgrid.triage.models import (
    DuplicateCandidate,
    DuplicateStatus,
    TriageKeyword,
    TriageSuggestion,
    split_words,
)

REVISION = "triage.catalogue"
# a case counts as training data once its category is final: 结案 or 回访 done
FINAL_STATES = (CaseState.CLOSED, CaseState.RATED)


def may_classify(user) -> bool:
    """The roles that 受理/派遣 (the command centre desk) see and use suggestions."""
    return has_capability(user, Capability.CASE_DISPATCH)


def require_classifier(user) -> None:
    if not may_classify(user):
        raise PermissionDenied("当前角色不能使用智能分拨", code="forbidden")


def require_admin(user) -> None:
    if not has_capability(user, Capability.SYSTEM_CONFIGURE):
        raise PermissionDenied("只有系统管理员可以管理分拨关键词和模型", code="forbidden")


def _load_catalogue() -> Catalogue:
    majors = dict(Category.objects.filter(level="major").values_list("pk", "name"))
    depts = dict(Department.objects.filter(is_active=True).values_list("code", "pk"))
    rows = []
    for c in Category.objects.filter(is_enabled=True).exclude(level="major").order_by("code"):
        dept = c.default_department_id or depts.get(c.default_department_code)
        rows.append(
            {
                "id": c.pk,
                "code": c.code,
                "name": c.name,
                "major": majors.get(c.parent_id, ""),
                "synonyms": split_words(c.synonyms),
                "department_id": dept,
                "kind": c.kind,
            }
        )
    keywords = {k.category_id: (k.word_list(), k.weight) for k in TriageKeyword.objects.all()}
    return Catalogue.build(rows, keywords)


_catalogue = revisions.cached(REVISION, _load_catalogue)


def catalogue() -> Catalogue:
    return _catalogue.get()


def training_rows() -> tuple[list[str], list[str]]:
    """(description, final category code) of every closed case with a category (all 街道: the model is the
    deployment's; it stores hashed features, no text). The title is left out (see :func:`case_text`)."""
    texts, labels = [], []
    qs = (
        Case.objects.filter(state__in=FINAL_STATES, category__isnull=False)
        .exclude(description="")
        .values_list("description", "category__code")
        .order_by("pk")
    )
    for description, code in qs.iterator(chunk_size=2000):
        texts.append(description)
        labels.append(code)
    return texts, labels


def case_text(case: Case) -> str:
    """The words of the complaint: the description. (A case's title is made by the platform from its category
    name and place — it would hand the answer to the model — or from the description's first line.)"""
    return case.description or ""


def suggestions_for(*, user, case: Case) -> QuerySet[TriageSuggestion]:
    case_selectors.get_case(user=user, pk=case.pk)  # 404 outside the user's scope
    return TriageSuggestion.objects.filter(case=case).select_related("category", "department")


def latest_suggestion(*, user, case: Case) -> TriageSuggestion | None:
    return suggestions_for(user=user, case=case).first()


def keyword_lists() -> QuerySet[TriageKeyword]:
    return TriageKeyword.objects.select_related("category").order_by("category__code")


def duplicates_for(*, user, case: Case) -> list[DuplicateCandidate]:
    """The near-duplicates recorded for ``case`` whose earlier case the user may also see (pending first)."""
    case_selectors.get_case(user=user, pk=case.pk)  # 404 outside the user's scope
    visible = case_selectors.visible_cases(user=user).values("pk")
    rows = (
        DuplicateCandidate.objects.filter(case=case, candidate__in=visible)
        .select_related("candidate", "candidate__category", "decided_by")
        .order_by("-score", "pk")
    )
    order = {DuplicateStatus.PENDING: 0, DuplicateStatus.MERGED: 1, DuplicateStatus.DISMISSED: 2}
    return sorted(rows, key=lambda r: order.get(r.status, 3))


def mergeable(*, user, row: DuplicateCandidate) -> bool:
    """Whether the user can merge ``row`` now: a desk role, the pair pending, the new case still 上报/已受理 and
    the earlier case not finished."""
    from civicgrid.cases import procedures

    if row.status != DuplicateStatus.PENDING or not may_classify(user):
        return False
    case, master = row.case, row.candidate
    return (
        case.state in (CaseState.REPORTED, CaseState.ACCEPTED)
        and master.state not in procedures.for_case(master).terminal
    )
