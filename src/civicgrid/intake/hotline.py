"""The 12345 hotline export: fields, cell parsing, lookups and the batch writer.

Two write paths, chosen per row:

- **historical** rows (the file has a 办结时间): the case engine records them in their final state (``closed``, or
  ``rated`` with a 回访满意度) through its set-based :func:`civicgrid.cases.services.import_closed_cases` — numbers
  from its daily counter, one ``import`` timeline entry each, the department link, one audit row per batch; this
  module then adds its own ledger rows and, when the address matched no grid, placement tasks (set-based too).
- **open** rows (no 办结时间): the case goes through the case engine's public services, one row per savepoint:
  ``create_case(auto_accept=True)`` and ``perform("dispatch")`` with the clock frozen at the 来电时间, so numbers,
  deadline clocks, notifications and audit are the engine's own.

Re-imports are idempotent by (source, 工单编号) through :class:`~civicgrid.intake.models.ImportedRecord`: an
unchanged row is skipped by its hash, a changed one updates the case (see :meth:`HotlineHandler._update`).
"""

from __future__ import annotations

import functools
import hashlib
import operator
import re
import unicodedata
from collections import OrderedDict
from datetime import datetime
from typing import NamedTuple

from django.db import connection
from rapidfuzz import fuzz, process

from civicgrid.accounts.models import Department
from civicgrid.cases.models import (
    Case,
    CaseEvent,
    CaseState,
    Category,
    Rating,
    Source,
)
from civicgrid.core import audit, clock
from civicgrid.core.bulk import SetBasedInserter
from civicgrid.core.errors import DomainError
from civicgrid.core.importer import (
    WARNINGS_KEY,
    CellError,
    CellWarning,
    CleanRow,
    Field,
    ImportSpec,
    Outcome,
    RowError,
    as_text,
    parse_datetime,
    register_spec,
)
from civicgrid.intake.models import ImportedRecord, ImportJob, PlacementStatus, PlacementTask
from civicgrid.places.models import Grid

SOURCE = Source.HOTLINE_12345
CATEGORY_FUZZY_CUTOFF = 85.0
DEPARTMENT_FUZZY_CUTOFF = 80.0
ADDRESS_CACHE_SIZE = 20_000
ANALYZE_EVERY = 200_000

# --- cell parsers ---------------------------------------------------------------------------------

_ISO_SECONDS = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\Z", re.ASCII)
_PHONE_CLEAN = re.compile(r"[\s\-—－()（）]+")
_PHONE_OK = re.compile(
    r"^(?:\+?86)?(?:1[3-9]\d{9}|1\d{2}\*{4}\d{4}|0\d{2,3}\d{7,8}(?:转\d{1,6})?|[2-9]\d{6,7}|400\d{7}|800\d{7}|95\d{3,6}|1[0-2]\d{3})$"
)


def parse_ref(value) -> str:
    text = as_text(value)
    if len(text) > 100:
        raise CellError("工单编号过长（超过 100 个字符）")
    return text


def parse_phone(value) -> str:
    text = _PHONE_CLEAN.sub("", unicodedata.normalize("NFKC", as_text(value)))
    if not text or text in {"无", "/", "-"}:
        return ""
    first = re.split(r"[,，;；/、]", text)[0]
    if not _PHONE_OK.match(first):
        raise CellError(f"联系电话格式错误：{as_text(value)[:30]}")
    return first[:30]


def _dt(label: str, *, end_of_day: bool = False):
    def parse(value):
        return parse_datetime(value, label=label, end_of_day=end_of_day)

    return parse


def _text(limit: int):
    def parse(value):
        return as_text(value)[:limit]

    return parse


class Limit(NamedTuple):
    """A 办理时限 given as a duration ("2个工作日"): the 处置 limit of the case, in the case engine's units."""

    amount: int
    unit: str  # a DeadlineUnit value

    def __str__(self):
        from civicgrid.cases.models import DeadlineUnit

        return f"{self.amount} {DeadlineUnit(self.unit).label}"


_LIMIT = re.compile(
    r"^(?:限|时限)?[:：]?(\d+(?:\.\d+)?)\s*个?\s*"
    r"(工作日|个工作日|自然日|日历日|天|日|工作小时|工作时|小时|时|h|hr|hrs|hours?)\s*(?:内|以内|之内)?(?:办结|办理|完成)?$",
    re.IGNORECASE,
)


def parse_limit(text: str) -> Limit | None:
    """ "2个工作日" → (2, working_days); "3个自然日"/"5天"/"5日" → (3/5, natural_days: the legal day count, start
    day not counted, 24:00 of the last day, rest days at the end extend it); "24小时" → (24, natural_hours);
    "8个工作小时" → (8, working_hours); "1.5天" → (36, natural_hours). ``None`` when the text is no such
    duration."""
    from civicgrid.cases.models import DeadlineUnit

    m = _LIMIT.match(re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)))
    if not m:
        return None
    number, unit = float(m.group(1)), m.group(2).lower()
    if unit in ("工作日", "个工作日"):
        amount, kind = number, DeadlineUnit.WORKING_DAYS
    elif unit in ("自然日", "日历日", "天", "日"):
        if number.is_integer():
            amount, kind = number, DeadlineUnit.NATURAL_DAYS
        else:  # "1.5天": a legal day count has no halves, keep it as wall hours
            amount, kind = number * 24, DeadlineUnit.NATURAL_HOURS
    elif unit in ("工作小时", "工作时"):
        amount, kind = number, DeadlineUnit.WORKING_HOURS
    else:
        amount, kind = number, DeadlineUnit.NATURAL_HOURS
    if not amount.is_integer() or not 1 <= amount <= 10_000:
        return None
    return Limit(int(amount), kind.value)


def parse_due(value):
    """办理时限: a deadline (date/time) or a duration (:class:`Limit`); anything else is ignored with a warning
    (the case then gets its category's limit)."""
    if isinstance(value, str):
        if len(value) == 19 and _ISO_SECONDS.match(
            value
        ):  # a timestamp as exports write it: never a duration
            return parse_datetime(value, label="办理时限", end_of_day=True)
        limit = parse_limit(value)
        if limit is not None:
            return limit
    try:
        return parse_datetime(value, label="办理时限", end_of_day=True)
    except CellError:
        raise CellWarning(
            f"办理时限无法识别（{as_text(value)[:30]}），已忽略，按分类默认时限计算", None
        ) from None


RATING_WORDS = {
    Rating.SATISFIED: ("满意", "非常满意", "很满意", "比较满意", "满意度高"),
    Rating.BASIC: ("基本满意", "一般", "较满意"),
    Rating.DISSATISFIED: ("不满意", "非常不满意", "很不满意", "不太满意"),
}
RATING_NONE = ("未回访", "未评价", "无法联系", "拒绝评价", "无", "/", "-", "空号", "未接通")
_RATING_LOOKUP = {w: r.value for r, words in RATING_WORDS.items() for w in words}


def parse_rating(value) -> str:
    text = re.sub(r"\s+", "", as_text(value))
    if not text or text in RATING_NONE:
        return ""
    if text in _RATING_LOOKUP:
        return _RATING_LOOKUP[text]
    for label in ("不满意", "基本满意", "满意"):  # longest first: 不满意 contains 满意
        if label in text:
            return _RATING_LOOKUP[label]
    raise CellError(f"回访满意度无法识别：{text[:20]}")


FIELDS: tuple[Field, ...] = (
    Field(
        "source_ref",
        "工单编号",
        ("工单号", "编号", "受理编号", "工单编码", "诉求编号", "流水号"),
        True,
        parse_ref,
    ),
    Field(
        "reported_at",
        "来电时间",
        ("受理时间", "来电日期", "登记时间", "创建时间", "派单时间", "诉求时间"),
        True,
        _dt("来电时间"),
    ),
    Field("reporter_name", "诉求人", ("来电人", "反映人", "联系人", "来电人姓名", "姓名"), False, _text(50)),
    Field(
        "reporter_phone",
        "联系电话",
        ("来电号码", "电话", "手机号", "联系方式", "来电电话"),
        False,
        parse_phone,
    ),
    Field(
        "description",
        "诉求内容",
        ("问题描述", "来电内容", "诉求描述", "工单内容", "反映内容"),
        True,
        _text(5000),
    ),
    Field(
        "category", "问题分类", ("诉求分类", "事项分类", "工单分类", "问题类型", "业务分类"), True, as_text
    ),
    Field("address", "事发地址", ("事发地点", "问题地址", "发生地址", "地址", "诉求地址"), True, _text(200)),
    Field(
        "department", "承办单位", ("承办部门", "处置单位", "责任单位", "办理单位", "主办单位"), False, as_text
    ),
    Field(
        "due_at",
        "办理时限",
        ("办结时限", "处理时限", "截止时间", "办理期限", "承办时限"),
        False,
        parse_due,
        help="截止时间（如 2026-11-28 17:30）或时长（如 2个工作日、3个自然日、24小时）",
    ),
    Field(
        "closed_at", "办结时间", ("结案时间", "完成时间", "办理完成时间", "办结日期"), False, _dt("办结时间")
    ),
    Field(
        "result", "办理结果", ("处理结果", "办理情况", "答复内容", "处置结果", "回复内容"), False, _text(5000)
    ),
    Field("rating", "回访满意度", ("满意度", "回访结果", "评价结果", "市民评价"), False, parse_rating),
    Field(
        "street",
        "所属街道",
        ("街道", "属地街道", "所属镇街", "镇街", "街道名称", "所属乡镇街道"),
        False,
        _text(100),
        help="填写时，不属于本街道的工单不导入（错误报告中注明）",
    ),
)


# --- resolvers ------------------------------------------------------------------------------------


_MISS = object()


def _norm(text: str) -> str:
    return re.sub(r"[\s\u3000]+", "", unicodedata.normalize("NFKC", text or "")).lower()


class CategoryResolver:
    """问题分类 text → minor category id: exact name, synonym, the last segment of a path, then fuzzy."""

    def __init__(self):
        self.by_name: dict[str, int] = {}
        self.by_synonym: dict[str, int] = {}
        self.names: dict[int, str] = {}
        self.priority: dict[int, str] = {}
        for c in Category.objects.filter(is_enabled=True, level="minor").only(
            "pk", "name", "synonyms", "priority"
        ):
            self.by_name.setdefault(_norm(c.name), c.pk)
            self.names[c.pk] = c.name
            self.priority[c.pk] = c.priority
            for s in c.synonym_list:
                self.by_synonym.setdefault(_norm(s), c.pk)
        self._fuzzy_pool = list(self.by_name) + [s for s in self.by_synonym if s not in self.by_name]
        self._memo: dict[str, int | None] = {}
        self._raw: dict[str, int | None] = {}

    def _exact(self, key: str) -> int | None:
        return self.by_name.get(key) or self.by_synonym.get(key)

    def resolve(self, text: str) -> int | None:
        # the cell text as given first: a file repeats a few dozen texts, and normalising costs more than the lookup
        found = self._raw.get(text, _MISS)
        if found is _MISS:
            found = self._resolve(text)
            if len(self._raw) < 100_000:
                self._raw[text] = found
        return found

    def _resolve(self, text: str) -> int | None:
        key = _norm(text)
        if key in self._memo:
            return self._memo[key]
        found = self._exact(key)
        parts = [p for p in re.split(r"[-－—>＞/／\\|｜、]+", key) if p]
        if found is None:
            for part in reversed(parts):
                found = self._exact(part)
                if found is not None:
                    break
        if found is None and self._fuzzy_pool:
            for cand in [*parts[-1:], key]:
                hit = process.extractOne(
                    cand, self._fuzzy_pool, scorer=fuzz.WRatio, score_cutoff=CATEGORY_FUZZY_CUTOFF
                )
                if hit:
                    found = self._exact(hit[0])
                    break
        if len(self._memo) < 100_000:
            self._memo[key] = found
        return found


class DepartmentResolver:
    """承办单位 text → active department id: exact name or code, then fuzzy by name."""

    def __init__(self, actor=None):
        from civicgrid.accounts.selectors import in_user_tier

        self.exact: dict[str, int] = {}
        self.names: dict[int, str] = {}
        depts = Department.objects.filter(is_active=True)
        if actor is not None:  # the importer's tier: its 街道's departments and its 区's 区-level ones
            depts = in_user_tier(depts, actor, district_level_rows=True)
        for pk, code, name in depts.values_list("pk", "code", "name"):
            self.exact.setdefault(_norm(name), pk)
            self.exact.setdefault(_norm(code), pk)
            self.names[pk] = name
        self._pool = {pk: _norm(name) for pk, name in self.names.items()}
        self._memo: dict[str, int | None] = {}
        self._raw: dict[str, int | None] = {}

    def resolve(self, text: str) -> int | None:
        found = self._raw.get(text, _MISS)  # the cell text as given first (see CategoryResolver.resolve)
        if found is _MISS:
            found = self._resolve(text)
            if len(self._raw) < 100_000:
                self._raw[text] = found
        return found

    def _resolve(self, text: str) -> int | None:
        key = _norm(text)
        if key in self._memo:
            return self._memo[key]
        found = self.exact.get(key)
        if found is None and self._pool:
            hit = process.extractOne(
                key, self._pool, scorer=fuzz.WRatio, score_cutoff=DEPARTMENT_FUZZY_CUTOFF
            )
            if hit:
                found = hit[2]
        if len(self._memo) < 100_000:
            self._memo[key] = found
        return found


class AddressResolver:
    """事发地址 → (grid id, community id, lng, lat, label) as ``places.selectors.locate_by_address`` places it:
    the same per-process address index (:func:`civicgrid.places.addressindex.address_index`, no query per
    address), with grid and building details loaded once per import, and an LRU cache per import. With
    ``street_ids``, only grids of those 街道 (the importer's tier) place an address."""

    def __init__(self, street_ids: list[int] | None = None):
        from civicgrid.places.models import Building

        self.street_ids = street_ids
        self._grids_qs = Grid.objects.all()
        if street_ids is not None:
            self._grids_qs = self._grids_qs.filter(community__street_id__in=street_ids)
        self.grids: dict[int, tuple[str, int]] = {
            pk: (name, community_id)
            for pk, name, community_id in self._grids_qs.values_list("pk", "name", "community_id")
        }
        self._memo: OrderedDict[str, tuple | None] = OrderedDict()
        self._raw: dict[str, tuple | None] = {}
        self._buildings: dict[int, tuple[str, float | None, float | None]] = {
            pk: (name, lng, lat)
            for pk, name, lng, lat in Building.objects.values_list("pk", "name", "lng", "lat")
        }

    def _place(self, text: str) -> tuple | None:
        from civicgrid.places.addressindex import address_index
        from civicgrid.places.models import Building

        hit = address_index().locate(text)
        if hit is None:
            return None
        if hit.grid_id not in self.grids:  # a grid saved since the import started
            row = self._grids_qs.filter(pk=hit.grid_id).values_list("name", "community_id").first()
            if row is None:
                return None
            self.grids[hit.grid_id] = row
        grid_name, community_id = self.grids[hit.grid_id]
        if hit.building_id is not None and hit.building_id not in self._buildings:
            row = Building.objects.filter(pk=hit.building_id).values_list("name", "lng", "lat").first()
            if row is not None:
                self._buildings[hit.building_id] = row
        if hit.building_id is not None and hit.building_id in self._buildings:
            name, lng, lat = self._buildings[hit.building_id]
            return (hit.grid_id, community_id, lng, lat, f"{grid_name} · {name}")
        return (hit.grid_id, community_id, None, None, grid_name)

    def resolve(self, text: str) -> tuple[int, int, float | None, float | None, str] | None:
        found = self._raw.get(text, _MISS)  # the cell text as given first (no normalising per row)
        if found is not _MISS:
            return found
        if len(self._raw) >= ADDRESS_CACHE_SIZE:
            self._raw.clear()
        found = self._raw[text] = self._resolve(text)
        return found

    def _resolve(self, text: str) -> tuple[int, int, float | None, float | None, str] | None:
        key = _norm(text)
        if key in self._memo:
            self._memo.move_to_end(key)
            return self._memo[key]
        result = self._place(text)
        self._memo[key] = result
        if len(self._memo) > ADDRESS_CACHE_SIZE:
            self._memo.popitem(last=False)
        return result


# --- the handler ----------------------------------------------------------------------------------

# the clean values that decide the row hash (anything that changes what is written)
_HASHED = (
    "reported_at",
    "reporter_name",
    "reporter_phone",
    "description",
    "category_id",
    "address",
    "grid_id",
    "department_id",
    "due_at",
    "limit",
    "closed_at",
    "result",
    "rating",
)


def _street_key(name: str) -> str:
    key = _norm(name)
    for suffix in ("街道办事处", "办事处", "街道", "镇", "乡"):
        if key.endswith(suffix) and len(key) > len(suffix):
            return key[: -len(suffix)]
    return key


_hashed_values = operator.itemgetter(*_HASHED)


def row_hash(values: dict) -> str:
    """md5 of the row's clean values (their repr: exact and deterministic for str, int, aware datetimes)."""
    try:
        key = _hashed_values(values)  # every key present (a clean row): one C call instead of 13 lookups
    except KeyError:
        key = tuple(values.get(k) for k in _HASHED)
    return hashlib.md5(repr(key).encode("utf-8"), usedforsecurity=False).hexdigest()


def _rows_by_ref(model, fields: tuple[str, ...], refs: list[str]) -> list[tuple]:
    """``fields`` of the ``model`` rows of this source whose ``source_ref`` is in ``refs`` (SQLite; PostgreSQL reads
    both tables at once with :func:`_ledger_and_cases_by_ref`)."""
    return list(model._base_manager.filter(source=SOURCE, source_ref__in=refs).values_list(*fields))


def _ledger_and_cases_by_ref(refs: list[str]) -> tuple[list[tuple], list[tuple]]:
    """PostgreSQL, one statement: the ledger rows ``(id, source, source_ref, case_id, row_hash)`` and the cases
    ``(id, source_ref)`` of this source whose ``source_ref`` is in ``refs`` (each ref once: a repeated one would
    repeat its rows).

    Each ref is looked up on its own, on (source, source_ref), which each table's index covers — a lateral
    subquery per element of the array, kept apart from the join (``OFFSET 0``) so that the plan is one index probe
    per ref whatever the tables' statistics say. With ``source_ref = ANY(array)`` the plan depended on them: a
    table that grew since it was last analysed (any import into a new database, before autovacuum comes by) was
    read through its ``source`` alone, with the array as a filter, so every batch read every row of this source
    — 60 ms a batch at 120,000 rows, growing with the table."""
    with connection.cursor() as cur:
        cur.execute(_by_ref_sql(), [refs, SOURCE, refs, SOURCE])
        rows = cur.fetchall()
    return [r[1:] for r in rows if r[0] == 0], [(r[1], r[3]) for r in rows if r[0] == 1]


@functools.cache
def _by_ref_sql() -> str:
    """The statement of :func:`_ledger_and_cases_by_ref` (PostgreSQL's quoting; built once per process);
    parameters: refs, source, refs, source."""
    qn = connection.ops.quote_name

    def probe(tag: int, model, columns: tuple[str, ...]) -> str:
        cols = ", ".join(qn(c) for c in columns)
        pad = ", NULL" * (5 - len(columns))
        return (
            f"SELECT {tag}, x.*{pad} FROM unnest(%s::varchar[]) AS r(ref) CROSS JOIN LATERAL "
            f"(SELECT {cols} FROM {qn(model._meta.db_table)} t WHERE t.source = %s AND t.source_ref = r.ref "
            "OFFSET 0) x"
        )

    return (
        probe(0, ImportedRecord, ("id", "source", "source_ref", "case_id", "row_hash"))
        + " UNION ALL "
        + probe(1, Case, ("id", "source", "source_ref"))
    )


# the outcomes of a historical row (read only by the importer: shared, not one per row)
_CREATED = Outcome("created")
_CREATED_PLACED = Outcome("created", placement=True)


class HotlineHandler:
    fields = FIELDS
    ref_field = "source_ref"
    # write_batch reads only what __init__ built (names, priorities); clean's memos are its own: the importer may
    # write one batch while it cleans the next (core.importer.run_rows)
    pipelined = True

    def __init__(self, *, job: ImportJob | None = None, actor=None):
        from civicgrid.places.models import Street
        from civicgrid.places.selectors import tier_street_ids

        self.job = job
        self.actor = actor if actor is not None else (job.created_by if job is not None else None)
        # the importer's tier: rows of other 街道 are refused, addresses placed and departments found only in it
        self.street_ids = tier_street_ids(self.actor) if self.actor is not None else None
        streets = Street.objects.all()
        if self.street_ids is not None:
            streets = streets.filter(pk__in=self.street_ids)
        named = list(streets.values_list("pk", "name"))
        self.streets = {_street_key(n): n for _, n in named}
        self.street_ids_by_key = {_street_key(n): pk for pk, n in named}
        self.categories = CategoryResolver()
        self.departments = DepartmentResolver(self.actor)
        self.addresses = AddressResolver(self.street_ids)
        self._since_analyze = 0
        self._inserters = {
            "record": SetBasedInserter(ImportedRecord, take_ids=False),
            "task": SetBasedInserter(PlacementTask, take_ids=False),
        }

    # -- clean (no writes) --

    def _check_street(self, street: str | None) -> None:
        """A row the 12345 system assigned to another 街道 is not ours: refused, never dispatched."""
        if not street or not self.streets:
            return
        key = _street_key(street)
        if any(key == k or (key and k and (key in k or k in key)) for k in self.streets):
            return
        ours = "、".join(sorted(self.streets.values()))
        raise RowError(
            f"所属街道为「{street[:30]}」，不属于本街道（{ours}），未导入；请退回 12345 平台转属地办理"
        )

    def _row_street_id(self, street: str | None) -> int | None:
        """The 街道 a row's 所属街道 names (one of the importer's tier), for a row whose address places it on
        no grid: a 区-level import files it there."""
        if not street:
            return None
        key = _street_key(street)
        for k, pk in self.street_ids_by_key.items():
            if key == k or (key and k and (key in k or k in key)):
                return pk
        return None

    def clean(self, number: int, values: dict) -> dict:
        ref = values["source_ref"]
        if not ref:
            raise RowError("工单编号为空")
        self._check_street(values.get("street"))
        category_id = self.categories.resolve(values["category"])
        if category_id is None:
            raise RowError(f"问题分类无法识别：{values['category'][:40]}")
        department_id = None
        if values.get("department"):
            department_id = self.departments.resolve(values["department"])
            if department_id is None:
                raise RowError(f"承办单位无法识别：{values['department'][:40]}")
        address = values["address"]
        place = self.addresses.resolve(address)
        reported_at: datetime = values["reported_at"]
        closed_at: datetime | None = values.get("closed_at")
        if closed_at is not None and closed_at < reported_at:
            raise RowError("办结时间早于来电时间")
        due_at = values.get("due_at")
        limit = None
        warnings: list[str] = []
        if isinstance(due_at, Limit):
            limit = due_at
            due_at = None
            if closed_at is not None:  # a historical row: the deadline the limit gave, for 曾超时
                from civicgrid.core import workcalendar

                due_at = workcalendar.compute_due(reported_at, limit.amount, limit.unit).due
            elif not values.get("department"):
                warnings.append(f"办理时限「{limit}」在派遣时才生效：本行没有承办单位，派遣时请按此时限")
        elif due_at is not None and due_at < reported_at:
            raise RowError("办理时限早于来电时间")
        if values.get("rating") and closed_at is None:
            raise RowError("有回访满意度但没有办结时间")
        clean = {
            **values,
            "due_at": due_at,
            "limit": limit,
            "category_id": category_id,
            "department_id": department_id,
            "grid_id": place[0] if place else None,
            "community_id": place[1] if place else None,
            "lng": place[2] if place else None,
            "lat": place[3] if place else None,
            "place_label": place[4] if place else "",
            "street_id": self._row_street_id(values.get("street")),
        }
        if closed_at is None and place is None:
            warnings.append("事发地址未匹配到本街道网格：已登记，待人工定位后再立案派遣（不计时）")
        clean["hash"] = row_hash(clean)
        if warnings:
            clean[WARNINGS_KEY] = warnings
        return clean

    def describe(self, values: dict) -> dict[str, str]:
        return {
            "分类": self.categories.names.get(values["category_id"], ""),
            "承办单位": self.departments.names.get(values["department_id"], "")
            if values["department_id"]
            else "",
            "网格": values["place_label"] or "未匹配，导入后待人工定位",
            "办理时限": str(values["limit"]) if values.get("limit") else "",
            "导入方式": "历史工单（直接办结）"
            if values.get("closed_at")
            else ("在办工单（立案并派遣）" if values["grid_id"] else "在办工单（待定位后立案派遣）"),
        }

    # -- write (inside the engine's transaction) --

    def write_batch(self, rows: list[CleanRow]) -> list[Outcome]:
        if self.actor is not None:
            return self._write_batch(rows)
        # no person behind this import (a server command): its audit rows name the channel
        from civicgrid.cases import channels

        with audit.acting_as(f"系统（{channels.import_label(SOURCE)}）"):
            return self._write_batch(rows)

    def _write_batch(self, rows: list[CleanRow]) -> list[Outcome]:
        outcomes: list[Outcome | None] = [None] * len(rows)
        # within a batch the last row of a 工单编号 wins; earlier ones count as updated by it
        last_index: dict[str, int] = {}
        for i, row in enumerate(rows):
            last_index[row.ref] = i
        for i, row in enumerate(rows):
            if last_index[row.ref] != i:
                outcomes[i] = Outcome("updated")
        live = [(i, rows[i]) for i in sorted(last_index.values())]
        refs = [row.ref for _, row in live]
        # (source, 工单编号) → ledger row; both columns, which the unique index covers
        fields = ("id", "source", "source_ref", "case_id", "row_hash")
        # cases entered by hand with the same 工单编号 are adopted, not duplicated
        adopted: dict[str, int] = {}
        if connection.vendor == "postgresql":
            # one round trip for both (a batch of a first import finds nothing in either)
            found, case_rows = _ledger_and_cases_by_ref(refs)
            ledger = {r[2]: ImportedRecord.from_db(connection.alias, fields, r) for r in found}
            for pk, ref in sorted(case_rows):
                if ref not in ledger:
                    adopted.setdefault(ref, pk)
        else:
            ledger = {
                r[2]: ImportedRecord.from_db(connection.alias, fields, r)
                for r in _rows_by_ref(ImportedRecord, fields, refs)
            }
            missing = [ref for ref in refs if ref not in ledger]
            if missing:
                for pk, ref in sorted(_rows_by_ref(Case, ("id", "source_ref"), missing)):
                    adopted.setdefault(ref, pk)

        new_hist: list[tuple[int, CleanRow]] = []
        new_open: list[tuple[int, CleanRow]] = []
        changed: list[tuple[int, CleanRow, int, ImportedRecord | None]] = []
        for i, row in live:
            rec = ledger.get(row.ref)
            if rec is not None:
                if rec.row_hash == row.values["hash"]:
                    outcomes[i] = Outcome("unchanged")
                else:
                    changed.append((i, row, rec.case_id, rec))
            elif row.ref in adopted:
                changed.append((i, row, adopted[row.ref], None))
            elif row.values.get("closed_at") is not None:
                new_hist.append((i, row))
            else:
                new_open.append((i, row))

        now = clock.now()
        self._maybe_analyze(len(new_hist))
        if new_hist:
            for i, outcome in self._create_historical(new_hist, now):
                outcomes[i] = outcome
        for i, row in new_open:
            outcomes[i] = self._create_open(row, now)
        if changed:
            for i, outcome in self._update(changed, now):
                outcomes[i] = outcome
        created = sum(1 for o in outcomes if o and o.kind == "created")
        updated = sum(1 for o in outcomes if o and o.kind == "updated")
        if created or updated:
            audit.record(
                actor=self.actor,
                action="intake.import.batch",
                obj=self.job,
                object_type="intake.importjob",
                object_id=self.job.pk if self.job else None,
                object_repr=str(self.job) if self.job else "12345 导入",
                after={
                    "created": created,
                    "updated": updated,
                    "rows": [rows[0].number, rows[-1].number],
                },
                note="12345 工单导入",
            )
        return outcomes  # type: ignore[return-value]

    def _maybe_analyze(self, adding: int) -> None:
        """PostgreSQL: refresh the statistics of the tables a long import grows, every ANALYZE_EVERY new rows."""
        self._since_analyze += adding
        if self._since_analyze < ANALYZE_EVERY or connection.vendor != "postgresql":
            return
        self._since_analyze = 0
        with connection.cursor() as cur:
            for model in (Case, CaseEvent, ImportedRecord):
                cur.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")

    def _title(self, v: dict) -> str:
        what = self.categories.names.get(v["category_id"], "")
        where = v["address"]
        return (f"{what} · {where}" if where else what)[:200]

    def _case_fields(self, v: dict) -> dict:
        closed_at = v["closed_at"]
        rating = v.get("rating") or ""
        due_at = v.get("due_at")
        return {
            "title": self._title(v),
            "description": v["description"],
            "category_id": v["category_id"],
            "priority": self.categories.priority.get(v["category_id"], "normal"),
            "state": CaseState.RATED if rating else CaseState.CLOSED,
            "lng": v["lng"],
            "lat": v["lat"],
            "address": v["address"],
            "department_id": v["department_id"],
            "reporter_name": v.get("reporter_name") or "",
            "reporter_phone": v.get("reporter_phone") or "",
            "rating": rating,
            "handling_feedback": v.get("result") or "",
            "due_at": due_at,
            "is_overdue": bool(due_at and closed_at > due_at),
            "stage": "",
            "light": "",
            "created_at": v["reported_at"],
            "accepted_at": v["reported_at"],
            "dispatched_at": v["reported_at"] if v["department_id"] else None,
            "handled_at": closed_at,
            "closed_at": closed_at,
        }

    def _create_historical(self, items: list[tuple[int, CleanRow]], now) -> list[tuple[int, Outcome]]:
        """The cases through the engine's set-based :func:`~civicgrid.cases.services.import_closed_cases` (cases,
        their ``import`` timeline entry, department link, audit row); then this module's ledger rows and
        placement tasks, set-based too. An engine refusal fails the batch (retried row by row by the caller)."""
        from civicgrid.cases import services as case_services

        job_id = self.job.pk if self.job else None
        wanted = []
        for _, row in items:
            v = row.values
            wanted.append(
                case_services.HistoricalCase(
                    source_ref=row.ref,
                    description=v["description"],
                    category_id=v["category_id"],
                    created_at=v["reported_at"],
                    closed_at=v["closed_at"],
                    address=v["address"],
                    grid_id=v["grid_id"],
                    lng=v["lng"],
                    lat=v["lat"],
                    department_id=v["department_id"],
                    street_id=v.get("street_id"),
                    reporter_name=v.get("reporter_name") or "",
                    reporter_phone=v.get("reporter_phone") or "",
                    due_at=v.get("due_at"),
                    rating=v.get("rating") or "",
                    result=v.get("result") or "",
                    event_data={"job": job_id, "row": row.number},
                )
            )
        try:
            case_ids = case_services.import_closed_case_ids(
                actor=self.actor,
                rows=wanted,
                source=SOURCE,
                batch_note="12345 热线历史工单导入（已办结）",
            )
        except DomainError as exc:
            raise RowError(f"案件引擎拒绝导入：{exc.message}") from exc
        records, tasks, out = [], [], []
        for (i, row), case_id in zip(items, case_ids, strict=True):
            v = row.values
            records.append(
                {
                    "source": SOURCE,
                    "source_ref": row.ref,
                    "case_id": case_id,
                    "row_hash": v["hash"],
                    "job_id": job_id,
                    "imported_at": now,
                }
            )
            placement = v["grid_id"] is None
            if placement:
                tasks.append(
                    {
                        "case_id": case_id,
                        "job_id": job_id,
                        "address": v["address"],
                        "status": "open",
                        "created_at": now,
                    }
                )
            out.append((i, _CREATED_PLACED if placement else _CREATED))
        self._inserters["record"].insert(records)
        self._inserters["task"].insert(tasks)
        return out

    def _create_open(self, row: CleanRow, now) -> Outcome:
        """An open 工单 through the case engine's services (one savepoint; an engine refusal rejects the row).

        Placed in a grid: 立案 and dispatched to the 承办单位 (with the row's 办理时限 as the 处置 limit).
        Not placed (unknown address, maybe outside the 街道): registered only (上报, no clock), queued for
        placement; placing it on the map 立案 and dispatches it then (see ``services.place_case``)."""
        from django.db import transaction

        from civicgrid.cases import channels
        from civicgrid.cases import services as case_services

        v = row.values
        category = Category.objects.get(pk=v["category_id"])
        grid = Grid.objects.get(pk=v["grid_id"]) if v["grid_id"] else None
        department = Department.objects.get(pk=v["department_id"]) if v["department_id"] else None
        limit: Limit | None = v.get("limit")
        try:
            with transaction.atomic(), clock.frozen(v["reported_at"]):
                case = case_services.create_case(
                    actor=self.actor,
                    source=SOURCE,
                    description=v["description"],
                    category=category,
                    lng=v["lng"],
                    lat=v["lat"],
                    address=v["address"],
                    grid=grid,
                    reporter_name=v.get("reporter_name") or "",
                    reporter_phone=v.get("reporter_phone") or "",
                    source_ref=row.ref,
                    auto_accept=grid is not None,
                    channel=channels.IMPORT,
                    street_id=v.get("street_id"),
                )
                if department is not None and case.grid_id is not None:
                    case = case_services.perform(
                        actor=self.actor,
                        case=case,
                        move="dispatch",
                        version=case.version,
                        department=department,
                        amount=limit.amount if limit else None,
                        unit=limit.unit if limit else None,
                        note="12345 工单导入：按承办单位派遣" + (f"，办理时限 {limit}" if limit else ""),
                        channel=channels.IMPORT,
                    )
                job_id = self.job.pk if self.job else None
                ImportedRecord.objects.create(
                    source=SOURCE,
                    source_ref=row.ref,
                    case_id=case.pk,
                    row_hash=v["hash"],
                    job_id=job_id,
                    imported_at=now,
                )
                placement = case.grid_id is None
                if placement:
                    PlacementTask.objects.create(
                        case_id=case.pk,
                        job_id=job_id,
                        address=v["address"],
                        created_at=now,
                        department=department,
                        limit_amount=limit.amount if limit else None,
                        limit_unit=limit.unit if limit else "",
                    )
        except DomainError as exc:
            return Outcome("error", f"案件引擎拒绝创建：{exc.message}")
        return Outcome("created", placement=placement)

    def _update(
        self, items: list[tuple[int, CleanRow, int, ImportedRecord | None]], now
    ) -> list[tuple[int, Outcome]]:
        """Changed rows. Cases this import wrote in their final state (closed/rated, not yet touched by anyone
        else) are refreshed in full; cases the engine is running get only the descriptive fields (诉求内容, 诉求人,
        电话) and a timeline note — their state belongs to the workflow."""
        from civicgrid.cases import channels
        from civicgrid.cases import services as case_services

        ids = [case_id for _, _, case_id, _ in items]
        cases = {c.pk: c for c in Case.objects.filter(pk__in=ids)}
        untouched = case_services.imported_untouched_ids(ids)
        open_tasks = set(
            PlacementTask.objects.filter(case_id__in=ids, status=PlacementStatus.OPEN).values_list(
                "case_id", flat=True
            )
        )
        job_id = self.job.pk if self.job else None
        updates, records_new, records_upd, tasks, out = [], [], [], [], []
        for i, row, case_id, rec in items:
            case = cases.get(case_id)
            if case is None:
                out.append((i, Outcome("error", "对应案件已不存在")))
                continue
            v = row.values
            historical = (
                rec is not None
                and v.get("closed_at") is not None
                and case.state in (CaseState.CLOSED, CaseState.RATED)
                and case_id in untouched
            )
            placement = False
            if historical:
                changes = self._case_fields(v)
                if v["grid_id"] is not None:
                    changes["grid_id"], changes["community_id"] = v["grid_id"], v["community_id"]
                elif case.grid_id is None and case_id not in open_tasks:
                    placement = True
                note = "12345 热线工单重新导入：已更新"
            else:
                changes = {
                    "description": v["description"],
                    "reporter_name": v.get("reporter_name") or case.reporter_name,
                    "reporter_phone": v.get("reporter_phone") or case.reporter_phone,
                }
                note = "12345 热线工单重新导入：已更新诉求内容"
                if v.get("closed_at") is not None and case.state not in (CaseState.CLOSED, CaseState.RATED):
                    note += f"；12345 系统已于 {clock.to_local(v['closed_at']):%Y-%m-%d %H:%M} 办结，本案仍在办理中，请人工核对"
            updates.append(
                case_services.ImportedCaseUpdate(
                    case=case,
                    changes=changes,
                    note=note,
                    data={"job": job_id, "row": row.number, "source_ref": row.ref},
                )
            )
            if rec is None:
                records_new.append(
                    ImportedRecord(
                        source=SOURCE,
                        source_ref=row.ref,
                        case_id=case_id,
                        row_hash=v["hash"],
                        job_id=job_id,
                        imported_at=now,
                    )
                )
            else:
                rec.row_hash, rec.job_id, rec.imported_at = v["hash"], job_id, now
                records_upd.append(rec)
            if placement:
                tasks.append(
                    PlacementTask(case_id=case_id, job_id=job_id, address=v["address"], created_at=now)
                )
            out.append((i, Outcome("updated", placement=placement)))
        try:
            with clock.frozen(now):
                case_services.update_imported_cases(
                    actor=self.actor, updates=updates, channel=channels.IMPORT
                )
        except DomainError as exc:
            raise RowError(f"案件引擎拒绝更新：{exc.message}") from exc
        ImportedRecord.objects.bulk_create(records_new)
        ImportedRecord.objects.bulk_update(records_upd, ["row_hash", "job", "imported_at"])
        PlacementTask.objects.bulk_create(tasks)
        return out


def _can_import(user) -> bool:
    from civicgrid.intake.selectors import can_import

    return can_import(user)


# the 12345 import as a core import spec: its own handler (own ledger ImportedRecord, own job table ImportJob)
SPEC = register_spec(
    ImportSpec(
        name="intake.hotline_12345",
        label="12345工单",
        fields=FIELDS,
        key_field="source_ref",
        key_label="工单编号",
        handler=HotlineHandler,
        can_import=_can_import,
    )
)
