"""The service list: one Open311 service per enabled public leaf :class:`~civicgrid.cases.models.Category`, and the
service-definition attributes, defined here in code per category kind (管理部件 / 管理事项 / 街道事项)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, Q, QuerySet

from civicgrid.cases.models import Category, CategoryKind, CategoryLevel
from civicgrid.open311.formats import BadRequest, NotFound


@dataclass(frozen=True)
class Attribute:
    code: str
    datatype: str  # string, number, datetime, text, singlevaluelist, multivaluelist
    label: str  # short Chinese name, used when the answer is written into the case description
    description: str
    required: bool = False
    datatype_description: str = ""
    values: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    variable: bool = True

    def as_dict(self, order: int) -> dict:
        data = {
            "variable": self.variable,
            "code": self.code,
            "datatype": self.datatype,
            "required": self.required,
            "datatype_description": self.datatype_description or None,
            "order": order,
            "description": self.description,
        }
        if self.datatype in ("singlevaluelist", "multivaluelist"):
            data["values"] = [{"key": k, "name": n} for k, n in self.values]
        return data

    def label_of(self, key: str) -> str:
        return dict(self.values).get(key, key)


SEVERITY_VALUES = (("minor", "轻微"), ("moderate", "一般"), ("severe", "严重"))

SEVERITY = Attribute(
    code="severity",
    datatype="singlevaluelist",
    label="严重程度",
    description="问题严重程度",
    required=True,
    datatype_description="请选择一项",
    values=SEVERITY_VALUES,
)
NOTE = Attribute(
    code="note",
    datatype="string",
    label="补充说明",
    description="补充说明",
    datatype_description="可填写问题的补充情况（选填）",
)
COMPONENT_STATE = Attribute(
    code="component_state",
    datatype="singlevaluelist",
    label="部件状况",
    description="部件状况",
    required=True,
    datatype_description="请选择一项",
    values=(("damaged", "破损"), ("missing", "丢失"), ("occupied", "被占用"), ("other", "其他")),
)
COMPONENT_ID = Attribute(
    code="component_id",
    datatype="string",
    label="部件编号",
    description="部件编号（部件上的标识牌编号，选填）",
)
PARTIES = Attribute(
    code="parties",
    datatype="number",
    label="涉及人数",
    description="涉及人数（选填）",
    datatype_description="整数",
)

ATTRIBUTES_BY_KIND: dict[str, tuple[Attribute, ...]] = {
    CategoryKind.COMPONENT: (SEVERITY, COMPONENT_STATE, COMPONENT_ID, NOTE),
    CategoryKind.MATTER: (SEVERITY, NOTE),
    CategoryKind.STREET: (SEVERITY, PARTIES, NOTE),
}


def attributes_for(category: Category) -> tuple[Attribute, ...]:
    return ATTRIBUTES_BY_KIND.get(category.kind, (SEVERITY, NOTE))


def public_category_q(prefix: str = "") -> Q:
    """Categories marked 对外公开 (``is_public``), under a 大类 that is public too."""
    return Q(**{f"{prefix}is_public": True}) & (
        Q(**{f"{prefix}parent__isnull": True}) | Q(**{f"{prefix}parent__is_public": True})
    )


def service_categories() -> QuerySet[Category]:
    """Enabled public leaves: 小类 (the case engine files cases only under a 小类) with no children, marked
    对外公开, whose 大类, if any, is enabled and public too. 信访, 矛盾纠纷 … are never listed (nor accepted)."""
    has_children = Category.objects.filter(parent=OuterRef("pk"))
    return (
        Category.objects.filter(is_enabled=True, level=CategoryLevel.MINOR)
        .filter(Q(parent__isnull=True) | Q(parent__is_enabled=True))
        .filter(public_category_q())
        .exclude(Exists(has_children))
        .select_related("parent")
        .order_by("kind", "sort", "code")
    )


def get_service(code: str) -> Category:
    category = service_categories().filter(code=code).first()
    if category is None:
        raise NotFound(f"服务编码不存在：{code}")
    return category


def service_dict(category: Category) -> dict:
    kind_label = CategoryKind(category.kind).label if category.kind in CategoryKind.values else ""
    group = category.parent.name if category.parent_id else kind_label
    description = " · ".join(
        p for p in (kind_label, group if group != kind_label else "", category.name) if p
    )
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": description,
        "metadata": bool(attributes_for(category)),
        "type": "realtime",
        "keywords": ",".join(category.synonym_list),
        "group": group,
    }


def definition_dict(category: Category) -> dict:
    return {
        "service_code": category.code,
        "attributes": [a.as_dict(i) for i, a in enumerate(attributes_for(category), start=1)],
    }


def clean_attributes(category: Category, raw: dict[str, list[str]]) -> dict[str, object]:
    """Check ``attribute[code]`` answers against the definition; returns ``{code: value}`` (list for
    multivaluelist). Unknown codes are a 400 so a client finds its typo."""
    attrs = {a.code: a for a in attributes_for(category)}
    unknown = sorted(set(raw) - set(attrs))
    if unknown:
        raise BadRequest(f"未定义的属性：{', '.join(unknown)}")
    cleaned: dict[str, object] = {}
    for code, attr in attrs.items():
        values = [v.strip() for v in raw.get(code, []) if v.strip()]
        if not values:
            if attr.required:
                raise BadRequest(f"缺少必填属性 attribute[{code}]（{attr.label}）")
            continue
        if attr.datatype == "multivaluelist":
            bad = [v for v in values if v not in dict(attr.values)]
            if bad:
                raise BadRequest(f"attribute[{code}] 的取值无效：{', '.join(bad)}")
            cleaned[code] = values
            continue
        if len(values) > 1:
            raise BadRequest(f"attribute[{code}] 只能有一个取值")
        value = values[0]
        if attr.datatype == "singlevaluelist" and value not in dict(attr.values):
            raise BadRequest(f"attribute[{code}] 的取值无效：{value}")
        if attr.datatype == "number":
            try:
                float(value)
            except ValueError:
                raise BadRequest(f"attribute[{code}] 应为数字：{value}")
        if len(value) > 500:
            raise BadRequest(f"attribute[{code}] 过长（最多 500 字）")
        cleaned[code] = value
    return cleaned


def describe_attributes(category: Category, cleaned: dict[str, object]) -> str:
    """The answers as a Chinese line appended to the case description (so handlers see them)."""
    parts = []
    for attr in attributes_for(category):
        if attr.code not in cleaned:
            continue
        value = cleaned[attr.code]
        if isinstance(value, list):
            shown = "、".join(attr.label_of(v) for v in value)
        else:
            shown = attr.label_of(value) if attr.values else value
        parts.append(f"{attr.label}：{shown}")
    return "；".join(parts)
