"""Seed the category tree from ``cases/data/`` (GB/T 47678.5 部件/事项 + the 街道's own 9xxxx matters).

Defaults for department, priority, time limits and conditions are CivicGrid's own choices (not the standard's),
set by the rules below; an administrator edits them per deployment. Used by migration ``0002`` (with historical
models) and by ``civicgrid load_categories``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from civicgrid.core.choices import DeadlineUnit

DATA_DIR = Path(__file__).resolve().parent / "data"
STANDARD_CSV = DATA_DIR / "categories_gbt47678_5.csv"
STREET_CSV = DATA_DIR / "street_categories.csv"

KIND_FROM_CSV = {"管理部件": "component", "管理事项": "matter"}
KIND_PREFIX = {"component": "B", "matter": "S", "street": "J"}

# department code per (kind, 大类) — CivicGrid's defaults
MAJOR_DEPARTMENT = {
    ("component", "01"): "ZJB",  # 市政公用设施
    ("component", "02"): "CGZD",
    ("component", "03"): "CGZD",
    ("component", "04"): "CGZD",
    ("component", "05"): "CGZD",
    ("matter", "01"): "ZJB",
    ("matter", "02"): "CGZD",
    ("matter", "03"): "CGZD",
    ("matter", "04"): "CGZD",
    ("matter", "05"): "CGZD",
    ("matter", "06"): "CGZD",
    ("matter", "07"): "CGZD",
    ("matter", "08"): "ZJB",
    ("matter", "09"): "CGZD",
    ("matter", "10"): "CGZD",
}
# name keyword → department code overrides (first match wins)
KEYWORD_DEPARTMENT = [
    ("油烟", "HBS"),
    ("噪声", "HBS"),
    ("河道污染", "HBS"),
    ("污水、废水", "HBS"),
    ("医疗废物", "HBS"),
    ("工地扬尘", "HBS"),
    ("焚烧", "HBS"),
    ("无证餐饮", "SCJG"),
    ("非法出版物", "SCJG"),
    ("农贸市场", "SCJG"),
    ("无照经营", "SCJG"),
    ("消防", "AJB"),
    ("流浪乞讨", "SWB"),
]
URGENT_KEYWORDS = (
    "井盖",
    "消防",
    "燃气",
    "危化",
    "危险化学品",
    "自建房",
    "塌陷",
    "疫情",
    "突发",
    "防汛",
    "自然灾害",
)
# minor matters a grid worker may file and accept on the spot (网格员可自行立案)
MINOR_CODES = {
    "S06007",  # 沿街晾挂
    "S06010",  # 暴露垃圾
    "S06012",  # 道路不洁
    "S06017",  # 绿地脏乱
    "S06036",  # 乱堆杂物
    "S06041",  # 垃圾未分类
    "S06042",  # 垃圾站（箱）满溢
    "S07001",  # 非法小广告
    "S07002",  # 街头散发广告
    "S09010",  # 非机动车乱停放
    "S09011",  # 共享单车乱象
}
# never public (Open311): 矛盾纠纷 (91), 信访 (93), personal registers — 民生服务/救助 (94), 社会治安线索 (95) —,
# the catch-all 其他 (99, content unknown), 传染病疫情线索 (a person's health) and 流浪乞讨 (a person).
# Everything else (部件, 事项, 安全隐患, 应急) is public. 舆情 is a source, not a category: see open311.selectors.
PRIVATE_STREET_MAJORS = frozenset({"91", "93", "94", "95", "99"})
PRIVATE_CODES = frozenset({"J96001", "S09003"})


def is_public_seed(code: str, kind: str, major_code: str) -> bool:
    if code in PRIVATE_CODES:
        return False
    return not (kind == "street" and major_code in PRIVATE_STREET_MAJORS)


STREET_MAJOR_LIMITS = {
    # 大类 → (handle amount, unit)
    "91": (5, DeadlineUnit.WORKING_DAYS),
    "92": (2, DeadlineUnit.WORKING_DAYS),
    "93": (15, DeadlineUnit.WORKING_DAYS),
    "94": (5, DeadlineUnit.WORKING_DAYS),
    "95": (1, DeadlineUnit.WORKING_DAYS),
    "96": (24, DeadlineUnit.NATURAL_HOURS),
    "99": (5, DeadlineUnit.WORKING_DAYS),
}


@dataclass
class SeedRow:
    code: str
    std_code: str
    kind: str
    level: str
    name: str
    parent_code: str | None
    synonyms: str = ""
    department_code: str = ""
    priority: str = "normal"
    dispatch: tuple[int, str] = (2, DeadlineUnit.WORKING_HOURS)
    handle: tuple[int, str] = (3, DeadlineUnit.WORKING_DAYS)
    verify: tuple[int, str] = (1, DeadlineUnit.WORKING_DAYS)
    grid_worker_can_file: bool = False
    is_public: bool = True
    accept_condition: str = ""
    close_condition: str = ""
    sort: int = 0


def _department_for(kind: str, major: str, name: str) -> str:
    for word, code in KEYWORD_DEPARTMENT:
        if word in name:
            return code
    return MAJOR_DEPARTMENT.get((kind, major), "")


def _standard_rows() -> list[SeedRow]:
    rows: list[SeedRow] = []
    majors: dict[str, SeedRow] = {}
    with STANDARD_CSV.open(encoding="utf-8", newline="") as fh:
        for i, r in enumerate(csv.DictReader(fh)):
            kind = KIND_FROM_CSV[r["kind"]]
            prefix = KIND_PREFIX[kind]
            major_code = prefix + r["major_code"]
            if major_code not in majors:
                majors[major_code] = SeedRow(
                    code=major_code,
                    std_code=r["major_code"],
                    kind=kind,
                    level="major",
                    name=r["major_name"],
                    parent_code=None,
                    is_public=is_public_seed(major_code, kind, r["major_code"]),
                    sort=len(majors),
                )
                rows.append(majors[major_code])
            name = r["name"]
            urgent = any(w in name for w in URGENT_KEYWORDS)
            code = prefix + r["code"]
            minor = code in MINOR_CODES
            noun = "部件" if kind == "component" else "问题"
            rows.append(
                SeedRow(
                    code=code,
                    std_code=r["code"],
                    kind=kind,
                    level="minor",
                    name=name,
                    parent_code=major_code,
                    synonyms=r["synonyms"],
                    department_code=_department_for(kind, r["major_code"], name),
                    priority="urgent" if urgent else "normal",
                    dispatch=(1, DeadlineUnit.NATURAL_HOURS) if urgent else (2, DeadlineUnit.WORKING_HOURS),
                    handle=(24, DeadlineUnit.NATURAL_HOURS)
                    if urgent
                    else ((1, DeadlineUnit.WORKING_DAYS) if minor else (3, DeadlineUnit.WORKING_DAYS)),
                    verify=(4, DeadlineUnit.NATURAL_HOURS) if urgent else (1, DeadlineUnit.WORKING_DAYS),
                    grid_worker_can_file=minor,
                    is_public=is_public_seed(code, kind, r["major_code"]),
                    accept_condition=f"{name}属实，位于本街道管辖范围内，有现场照片或明确地址。",
                    close_condition=f"{noun}已处置到位，现场恢复正常，有处置后照片且核查通过。",
                    sort=i,
                )
            )
    return rows


def _street_rows() -> list[SeedRow]:
    rows: list[SeedRow] = []
    majors: dict[str, SeedRow] = {}
    with STREET_CSV.open(encoding="utf-8", newline="") as fh:
        for i, r in enumerate(csv.DictReader(fh)):
            major_code = "J" + r["major_code"]
            if major_code not in majors:
                majors[major_code] = SeedRow(
                    code=major_code,
                    std_code=r["major_code"],
                    kind="street",
                    level="major",
                    name=r["major_name"],
                    parent_code=None,
                    is_public=is_public_seed(major_code, "street", r["major_code"]),
                    sort=len(majors),
                )
                rows.append(majors[major_code])
            name = r["name"]
            urgent = any(w in name for w in URGENT_KEYWORDS)
            rows.append(
                SeedRow(
                    code="J" + r["code"],
                    std_code=r["code"],
                    kind="street",
                    level="minor",
                    name=name,
                    parent_code=major_code,
                    synonyms=r["synonyms"],
                    department_code=r["department"],
                    priority="urgent" if urgent else "normal",
                    dispatch=(1, DeadlineUnit.NATURAL_HOURS) if urgent else (2, DeadlineUnit.WORKING_HOURS),
                    handle=STREET_MAJOR_LIMITS[r["major_code"]],
                    verify=(1, DeadlineUnit.WORKING_DAYS),
                    is_public=is_public_seed("J" + r["code"], "street", r["major_code"]),
                    accept_condition=f"反映的{r['major_name']}事项属实且属本街道职责范围。",
                    close_condition="诉求已答复或问题已解决，处置情况已反馈反映人。",
                    sort=i,
                )
            )
    return rows


def seed_rows() -> list[SeedRow]:
    """Every seed row, 大类 before their 小类."""
    return _standard_rows() + _street_rows()


def load_categories(category_model=None, department_model=None, *, update_existing: bool = False) -> dict:
    """Insert missing categories (and, with ``update_existing``, reset existing ones to the seed defaults).

    Departments are resolved by code now; unresolved codes stay in ``default_department_code`` and are linked
    later (``resolve_departments``) or at dispatch time.
    """
    if category_model is None:
        from civicgrid.cases.models import Category as category_model
    if department_model is None:
        from civicgrid.accounts.models import Department as department_model
    depts = {d.code: d for d in department_model.objects.all()}
    # migration 0002 runs this with the historical model, which has no later fields (is_public: 0005)
    known = {f.name for f in category_model._meta.get_fields()}
    existing = {c.code: c for c in category_model.objects.all()}
    created = updated = 0
    for row in seed_rows():
        values = dict(
            std_code=row.std_code,
            kind=row.kind,
            level=row.level,
            name=row.name,
            parent=existing.get(row.parent_code) if row.parent_code else None,
            synonyms=row.synonyms,
            default_department_code=row.department_code,
            default_department=depts.get(row.department_code),
            priority=row.priority,
            dispatch_limit_amount=row.dispatch[0],
            dispatch_limit_unit=row.dispatch[1],
            handle_limit_amount=row.handle[0],
            handle_limit_unit=row.handle[1],
            verify_limit_amount=row.verify[0],
            verify_limit_unit=row.verify[1],
            grid_worker_can_file=row.grid_worker_can_file,
            is_public=row.is_public,
            accept_condition=row.accept_condition,
            close_condition=row.close_condition,
            sort=row.sort,
        )
        values = {k: v for k, v in values.items() if k in known}
        obj = existing.get(row.code)
        if obj is None:
            obj = category_model.objects.create(code=row.code, **values)
            existing[row.code] = obj
            created += 1
        elif update_existing:
            for k, v in values.items():
                setattr(obj, k, v)
            obj.save()
            updated += 1
    linked = resolve_departments(category_model, department_model)
    return {"created": created, "updated": updated, "linked": linked, "total": len(existing)}


# the seed's department codes → the department's usual name and kind, so a 街道 whose departments use other codes
# still gets the defaults (matched by name, else by kind when exactly one active department has that kind)
SEED_DEPARTMENTS = {
    "CGZD": ("城管中队", "enforcement"),
    "ZJB": ("住建办", "construction"),
    "HBS": ("环保所", "environment"),
    "SCJG": ("市场监管所", "market"),
    "AJB": ("安监办", "safety"),
    "SFS": ("司法所", "justice"),
    "PCS": ("派出所", "police"),
    "SWB": ("社会事务办", "service"),
    "XFB": ("信访办", "other"),
    "YJB": ("应急办", "safety"),
}


def department_for_code(code: str, departments) -> object | None:
    """The department a seed code stands for among ``departments`` (active ones): by code, by the usual name,
    else by kind when exactly one department has that kind."""
    if not code:
        return None
    by_code = {d.code: d for d in departments}
    if code in by_code:
        return by_code[code]
    name, kind = SEED_DEPARTMENTS.get(code, ("", ""))
    if not name:
        return None
    for d in departments:
        if d.name == name:
            return d
    same_kind = [d for d in departments if d.kind == kind]
    return same_kind[0] if len(same_kind) == 1 else None


def resolve_departments(category_model=None, department_model=None) -> int:
    """Link ``default_department`` from ``default_department_code`` where no department is linked yet and the
    department exists (by code, name or kind: :func:`department_for_code`). Returns how many categories were
    linked. An administrator's choice (a linked department) is never overwritten."""
    if category_model is None:
        from civicgrid.cases.models import Category as category_model
    if department_model is None:
        from civicgrid.accounts.models import Department as department_model
    departments = list(department_model.objects.filter(is_active=True))
    if not departments:
        return 0
    codes = (
        category_model.objects.filter(default_department__isnull=True)
        .exclude(default_department_code="")
        .values_list("default_department_code", flat=True)
        .distinct()
    )
    linked = 0
    for code in sorted(set(codes)):
        dept = department_for_code(code, departments)
        if dept is not None:
            linked += category_model.objects.filter(
                default_department__isnull=True, default_department_code=code
            ).update(default_department=dept)
    return linked
