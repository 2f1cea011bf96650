"""Every read of cases, already scoped to the user (``Case.objects.restrict(user, action)``).

Every scope is first narrowed to the user's tier on ``Case.street`` (``places.selectors.tier_q``): a 街道
account sees only its 街道's cases, a 区-level account those of every 街道 of its 区 (a case without a 街道 only a
platform-level 系统管理员). Within the tier, the same role rules apply at both levels (a 区指挥中心 dispatcher is a
``dispatcher`` whose account has a 区 and no 街道; a 区领导 a ``leader`` so placed).

Scope (view), within the tier:

- 街道 roles (dispatcher, shift_leader, leader, system_admin): every case;
- dept_handler: cases currently assigned to their department, or returned by it and not yet assigned to another
  department (a department loses access once the case is 改派/派遣 elsewhere; acting needs the *current*
  assignment);
- community_staff: cases in their community;
- grid_worker: cases in their grids (including the 专属网格 inside them) or created by them;
- audit_admin: none (三权分立).

Out of scope reads raise :class:`~civicgrid.core.errors.NotFound` (existence is never leaked).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db.models import Case as When_
from django.db.models import Exists, IntegerField, OuterRef, Q, QuerySet, Value, When

from civicgrid.accounts.roles import Role
from civicgrid.cases import procedures
from civicgrid.cases.errors import CaseErrorCode
from civicgrid.cases.models import (
    Attachment,
    Case,
    CaseDepartment,
    CaseEvent,
    CaseState,
    Category,
    ExtensionRequest,
    ExtensionStatus,
    Light,
    Notification,
)
from civicgrid.core import clock, revisions
from civicgrid.core.errors import NotFound, ValidationFailed
from civicgrid.core.revcache import RevisionCache
from civicgrid.core.roles import Capability, has_capability
from civicgrid.core.scoping import register
from civicgrid.places.selectors import tier_q

_ONE_DAY = timedelta(days=1)


def _case_q(user) -> Q | None:
    """The Q limiting cases to ``user``'s scope; ``None`` = everything."""
    role = user.role
    if has_capability(user, Capability.STREET_WIDE_VIEW):
        return None
    if role == Role.DEPT_HANDLER:
        if not user.department_id:
            return Q(pk__in=[])
        past = CaseDepartment.objects.filter(
            department_id=user.department_id, revoked_at__isnull=True
        ).values("case_id")
        return Q(department_id=user.department_id) | Q(pk__in=past)
    if role == Role.COMMUNITY_STAFF:
        if not user.community_id:
            return Q(pk__in=[])
        return Q(community_id=user.community_id)
    if role == Role.GRID_WORKER:
        from civicgrid.cases.services import _own_grid_ids

        return Q(grid_id__in=list(_own_grid_ids(user))) | Q(created_by_id=user.pk)
    return Q(pk__in=[])


def _case_change_q(user) -> Q | None:
    """The Q limiting cases to those ``user`` may change (make a move that alters them); ``None`` = every case.

    The command centre (``CASE_CHANGE_ANY``) changes any case; a department handler only the cases *currently*
    assigned to their department (a case reassigned away stays visible, read-only); 社区/网格员 their own patch,
    as they see it; 领导 and 系统管理员 see the whole 街道 but change no case (领导's 督办 is an instruction, see
    :data:`civicgrid.cases.services.OVERSIGHT_MOVES`).
    """
    if has_capability(user, Capability.CASE_CHANGE_ANY):
        return None
    role = user.role
    if role == Role.DEPT_HANDLER:
        return Q(department_id=user.department_id) if user.department_id else Q(pk__in=[])
    if role in (Role.COMMUNITY_STAFF, Role.GRID_WORKER):
        return _case_q(user)
    return Q(pk__in=[])


@register(Case)
def _case_scope(qs: QuerySet, user, action: str) -> QuerySet:
    """``view``: what the user may read; ``change``: what they may alter (a subset of ``view``); both within
    the user's tier (the 区 level changes what its roles may change, in every 街道 of the 区)."""
    if not has_capability(user, Capability.BUSINESS_VIEW):
        return qs.none()
    tier = tier_q(user)
    q = _case_q(user) if action == "view" else _case_change_q(user)
    # a procedure with a visibility rule (信访: its desk, leaders, the case's 包案领导) shows its cases only where
    # the rule holds too, on top of the jurisdiction above
    extra = procedures.visibility_q(user)
    if extra is not None:
        q = extra if q is None else q & extra
    if tier is not None:
        qs = qs.filter(tier)
    return qs if q is None else qs.filter(q)


@register(CaseEvent)
def _event_scope(qs: QuerySet, user, action: str) -> QuerySet:
    if action != "view":
        return qs.none()
    return qs.filter(case__in=Case.objects.restrict(user, "view"))


@register(Attachment)
def _attachment_scope(qs: QuerySet, user, action: str) -> QuerySet:
    if not has_capability(user, Capability.BUSINESS_VIEW):
        return qs.none()
    return qs.filter(Q(case__in=Case.objects.restrict(user, "view")) | Q(case__isnull=True, uploaded_by=user))


def _sees_categories(user) -> bool:
    return has_capability(user, Capability.BUSINESS_VIEW)


@register(Category)
def _category_scope(qs: QuerySet, user, action: str) -> QuerySet:
    if not _sees_categories(user):
        return qs.none()
    if action == "view":
        return qs
    return qs if has_capability(user, Capability.SYSTEM_CONFIGURE) else qs.none()


# --- the category catalogue (a per-process copy; every case create reads it) --------------------------

CATEGORY_REVISION = "cases.category"


class _Catalogue:
    def __init__(self, categories):
        self.rows = {c.pk: revisions.freeze(c) for c in categories}
        self.by_code = {c.code: c.pk for c in categories}


def _load_catalogue() -> _Catalogue:
    return _Catalogue(list(Category.objects.all()))


_catalogue: RevisionCache[_Catalogue] = revisions.cached(CATEGORY_REVISION, lambda: _load_catalogue())


def category(*, user, pk: int | None = None, code: str | None = None) -> Category | None:
    """The category with this id (or code) if ``user`` may see it, else ``None``; enabled or not.

    Read from a per-process copy of the category table that is reloaded when any category changes (on another
    app server: within a second), so the hot path of filing a case costs no query. A fresh instance each call.
    """
    if user is None or not getattr(user, "is_authenticated", False) or not _sees_categories(user):
        return None
    cat = _catalogue.get()
    if pk is None and code:
        pk = cat.by_code.get(code)
    row = cat.rows.get(pk) if pk is not None else None
    return revisions.thaw(Category, row) if row is not None else None


@register(Notification)
def _notification_scope(qs: QuerySet, user, action: str) -> QuerySet:
    return qs.filter(user=user)


# --- selectors ------------------------------------------------------------------------------------


def visible_cases(*, user) -> QuerySet[Case]:
    return Case.objects.restrict(user, "view")


def changeable_cases(*, user) -> QuerySet[Case]:
    """The cases ``user`` may change (``restrict(user, "change")``): a subset of :func:`visible_cases`."""
    return Case.objects.restrict(user, "change")


def can_change(*, user, case: Case) -> bool:
    return changeable_cases(user=user).filter(pk=case.pk).exists()


def get_case(*, user, pk: int) -> Case:
    try:
        return (
            visible_cases(user=user)
            .select_related("category", "grid", "community", "department", "street")
            .get(pk=pk)
        )
    except (Case.DoesNotExist, ValueError, TypeError):
        raise NotFound("案件不存在或无权查看", code=CaseErrorCode.NOT_FOUND)


def _day_start(d) -> datetime:
    if isinstance(d, datetime):
        return clock.aware(d)
    return datetime.combine(d, time.min, tzinfo=clock.SHANGHAI)


# ``metric`` of filter_cases: the counts of docs/metrics.md a list can stand behind -> (label, timestamp field)
LIST_METRICS: dict[str, tuple[str, str]] = {
    "received": ("受理（按上报时间）", "created_at"),
    "accepted": ("立案（按立案时间）", "accepted_at"),
    "dispatched": ("派遣（按派遣时间）", "dispatched_at"),
    "done": ("办结（按结案时间）", "closed_at"),
}


def filter_cases(
    *,
    user,
    status: str | list[str] | None = None,
    category=None,
    grid=None,
    department=None,
    source: str | None = None,
    light: str | None = None,
    date_from: date | datetime | None = None,
    date_to: date | datetime | None = None,
    text: str | None = None,
    community=None,
    metric: str | None = None,
    open_only: bool = False,
) -> QuerySet[Case]:
    """Scoped list with filters. ``category`` matches the category or any 小类 under a 大类 (id or code);
    ``date_from``/``date_to`` bound ``created_at`` (dates are whole Asia/Shanghai days, ``date_to`` inclusive);
    ``text`` searches number, title, description and address.

    ``metric`` (:data:`LIST_METRICS`) lists the cases behind one count of docs/metrics.md: the cases it counts
    (作废 excluded; 立案 without 合并; 办结 in the procedure's 办结 group) with the dates bounding the metric's own
    timestamp (受理 ``created_at``, 立案 ``accepted_at``, 派遣 ``dispatched_at``, 办结 ``closed_at``).
    ``open_only``: the cases not yet closed in their procedure (上报待受理 included)."""
    qs = visible_cases(user=user).select_related("category", "grid", "community", "department", "street")
    date_field = "created_at"
    if metric:
        if metric not in LIST_METRICS:
            raise ValidationFailed(
                f"未知统计口径：{metric}", field="metric", code=CaseErrorCode.INVALID_FILTER
            )
        date_field = LIST_METRICS[metric][1]
        qs = qs.exclude(state=CaseState.VOIDED).filter(**{f"{date_field}__isnull": False})
        if metric == "accepted":
            qs = qs.exclude(state=CaseState.MERGED)
        elif metric == "done":
            qs = qs.filter(procedures.group_q("done"))
    if community:
        qs = qs.filter(community_id=getattr(community, "pk", community))
    if open_only:
        qs = qs.exclude(procedures.group_q("closed"))
    if status:
        states = [status] if isinstance(status, str) else list(status)
        states = [s for part in states for s in str(part).split(",") if s]
        known = procedures.all_states()
        bad = [s for s in states if s not in known]
        if bad:
            raise ValidationFailed(
                f"未知状态：{', '.join(bad)}", field="status", code=CaseErrorCode.INVALID_FILTER
            )
        qs = qs.filter(state__in=states)
    if category:
        cat_q = Q(code=category) if not str(category).isdigit() else Q(pk=int(category))
        cats = list(Category.objects.filter(cat_q).values_list("pk", flat=True))
        qs = qs.filter(Q(category_id__in=cats) | Q(category__parent_id__in=cats))
    if grid:
        qs = qs.filter(grid_id=getattr(grid, "pk", grid))
    if department:
        qs = qs.filter(department_id=getattr(department, "pk", department))
    if source:
        qs = qs.filter(source=source)
    if light:
        if light not in Light.values:
            raise ValidationFailed(f"未知亮灯：{light}", field="light", code=CaseErrorCode.INVALID_FILTER)
        qs = qs.filter(light=light)
    if date_from:
        qs = qs.filter(**{f"{date_field}__gte": _day_start(date_from)})
    if date_to:
        if isinstance(date_to, datetime):
            qs = qs.filter(**{f"{date_field}__lte": clock.aware(date_to)})
        else:
            qs = qs.filter(**{f"{date_field}__lt": _day_start(date_to) + _ONE_DAY})
    if text:
        t = text.strip()
        qs = qs.filter(
            Q(number__icontains=t)
            | Q(title__icontains=t)
            | Q(description__icontains=t)
            | Q(address__icontains=t)
        )
    return qs


INBOX_TABS = ("active", "followup", "all")


def inbox(*, user, tab: str = "all") -> QuerySet[Case]:
    """待办: the cases this user must act on now, urgent first (annotated ``urgency``: a smaller number first).

    ``tab``: ``active`` — work in progress; ``followup`` — 回访: closed cases awaiting the follow-up rating
    (within ``CIVICGRID["RATING_WINDOW_DAYS"]`` of closing; command-centre roles only); ``all`` — both.

    - dispatcher: 上报待受理, 被退回待改派, 立案待派遣, 核查通过待结案, 已结案待回访;
    - shift_leader: the dispatcher's list + pending extension requests + red (overdue) open cases;
    - dept_handler: dispatched/handling cases of their department;
    - grid_worker / community_staff: handled cases to verify in their grids / community;
    - leader: red cases (to supervise); others: nothing.
    """
    if tab not in INBOX_TABS:
        raise ValidationFailed(
            f"未知待办分组：{tab}（可选 active、followup、all）",
            field="tab",
            code=CaseErrorCode.INVALID_FILTER,
        )
    if tab == "followup" and not has_capability(user, Capability.CASE_FOLLOWUP):
        return Case.objects.none()  # only the command centre makes follow-up calls (no query)
    qs = _inbox_all(user)
    # 回访: closed (handled to the end) but not final yet — for the standard procedure: 已结案
    followup = procedures.group_q("followup")
    if tab == "active":
        return qs.exclude(followup)
    if tab == "followup":
        return qs.filter(followup)
    return qs


# urgency groups of the command centre's 待办, in order (the view prints a heading per group)
URGENCY_REPORTED, URGENCY_RETURNED, URGENCY_ATTENTION, URGENCY_DISPATCH, URGENCY_CLOSE, URGENCY_FOLLOWUP = (
    range(6)
)
URGENCY_LABELS = {
    URGENCY_REPORTED: "上报待受理",
    URGENCY_RETURNED: "被退回待改派",
    URGENCY_ATTENTION: "延期审批 · 超时案件",
    URGENCY_DISPATCH: "立案待派遣",
    URGENCY_CLOSE: "核查通过待结案",
    URGENCY_FOLLOWUP: "已结案待回访",
}


def _inbox_all(user) -> QuerySet[Case]:
    qs = visible_cases(user=user).select_related("category", "grid", "department", "street")
    role = user.role
    pending_ext = Exists(
        ExtensionRequest.objects.filter(case_id=OuterRef("pk"), status=ExtensionStatus.PENDING)
    )
    # a closed case waits for its 回访 only within the follow-up window; older ones are no longer 待办
    window = timedelta(days=settings.CIVICGRID.get("RATING_WINDOW_DAYS", 15))
    desk = Q(state__in=[CaseState.REPORTED, CaseState.ACCEPTED, CaseState.VERIFIED]) | Q(
        state=CaseState.CLOSED, closed_at__gte=clock.now() - window
    )
    # what needs a person first: new reports and returned cases, then extensions/overdue cases (shift leader),
    # dispatching, closing, follow-up calls
    urgency = When_(
        When(state=CaseState.REPORTED, then=Value(URGENCY_REPORTED)),
        When(state=CaseState.ACCEPTED, returned=True, then=Value(URGENCY_RETURNED)),
        When(state=CaseState.ACCEPTED, then=Value(URGENCY_DISPATCH)),
        When(state=CaseState.VERIFIED, then=Value(URGENCY_CLOSE)),
        When(state=CaseState.CLOSED, then=Value(URGENCY_FOLLOWUP)),
        default=Value(URGENCY_ATTENTION),
        output_field=IntegerField(),
    )
    if role == Role.DISPATCHER:
        return (
            qs.filter(procedures.inbox_q(role, desk))
            .annotate(urgency=urgency)
            .order_by("urgency", "due_at", "created_at", "pk")
        )
    if role == Role.SHIFT_LEADER:
        return (
            qs.filter(
                procedures.inbox_q(
                    role,
                    desk
                    | Q(pending_ext)
                    | Q(
                        light=Light.RED,
                        state__in=[
                            CaseState.DISPATCHED,
                            CaseState.HANDLING,
                            CaseState.HANDLED,
                            CaseState.ACCEPTED,
                        ],
                    ),
                )
            )
            .annotate(urgency=urgency)
            .order_by("urgency", "due_at", "created_at", "pk")
        )
    if role == Role.DEPT_HANDLER:
        return qs.filter(
            procedures.inbox_q(
                role,
                Q(department_id=user.department_id, state__in=[CaseState.DISPATCHED, CaseState.HANDLING]),
            )
        ).order_by("due_at", "pk")
    if role in (Role.GRID_WORKER, Role.COMMUNITY_STAFF):
        from civicgrid.cases.services import _own_grid_ids

        if role == Role.GRID_WORKER:
            place = Q(grid_id__in=list(_own_grid_ids(user)))
        else:
            place = Q(community_id=user.community_id)
        return qs.filter(procedures.inbox_q(role, place & Q(state=CaseState.HANDLED))).order_by(
            "due_at", "pk"
        )
    if role == Role.LEADER:
        return qs.filter(
            procedures.inbox_q(role, Q(light=Light.RED) & ~Q(state=CaseState.SUSPENDED))
        ).order_by("due_at", "pk")
    return qs.none()


def pending_extensions(*, user) -> QuerySet[ExtensionRequest]:
    return ExtensionRequest.objects.filter(
        case__in=visible_cases(user=user), status=ExtensionStatus.PENDING
    ).select_related("case", "requested_by")


def timeline(*, user, case: Case) -> QuerySet[CaseEvent]:
    """The case's events in order (raises NotFound when the case is out of scope)."""
    if not visible_cases(user=user).filter(pk=case.pk).exists():
        raise NotFound("案件不存在或无权查看", code=CaseErrorCode.NOT_FOUND)
    return (
        CaseEvent.objects.restrict(user, "view")
        .filter(case_id=case.pk)
        .select_related("actor")
        .prefetch_related("attachments")
        .order_by("seq")
    )


def case_attachments(*, user, case: Case) -> QuerySet[Attachment]:
    return Attachment.objects.restrict(user, "view").filter(case_id=case.pk)


def get_attachment(*, user, pk: int) -> Attachment:
    try:
        return Attachment.objects.restrict(user, "view").get(pk=pk)
    except (Attachment.DoesNotExist, ValueError, TypeError):
        raise NotFound("附件不存在或无权查看", code=CaseErrorCode.NOT_FOUND)


def category_tree(*, user, enabled_only: bool = True) -> list[dict]:
    """大类 with their 小类, as nested dicts (for pickers and the API)."""
    qs = Category.objects.restrict(user, "view").select_related("default_department")
    if enabled_only:
        qs = qs.filter(is_enabled=True)
    majors: dict[int, dict] = {}
    minors = []
    for c in qs.order_by("kind", "sort", "code"):
        if c.level == "major":
            majors[c.pk] = _category_dict(c) | {"children": []}
        else:
            minors.append(c)
    for c in minors:
        if c.parent_id in majors:
            majors[c.parent_id]["children"].append(_category_dict(c))
    return list(majors.values())


def _category_dict(c: Category) -> dict:
    return {
        "id": c.pk,
        "code": c.code,
        "std_code": c.std_code,
        "name": c.name,
        "kind": c.kind,
        "level": c.level,
        "synonyms": c.synonym_list,
        "priority": c.priority,
        "default_department": c.default_department.name if c.default_department_id else None,
        "grid_worker_can_file": c.grid_worker_can_file,
        "limits": {
            stage: {"amount": c.limit_for(stage)[0], "unit": c.limit_for(stage)[1]}
            for stage in ("dispatch", "handle", "verify")
        },
    }


def notifications(*, user, unread_only: bool = False) -> QuerySet[Notification]:
    qs = Notification.objects.restrict(user, "view").select_related("case")
    return qs.filter(read_at__isnull=True) if unread_only else qs


def mask_phone(phone: str) -> str:
    """138****8000: keep the first 3 and last 4 digits."""
    phone = (phone or "").strip()
    if len(phone) >= 7:
        return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
    return "*" * len(phone)


def mask_id_number(number: str) -> str:
    """3****************X: an ID number keeps only its first and last character."""
    return number[:1] + "*" * (len(number) - 2) + number[-1:] if len(number) > 2 else "*" * len(number)


def mask_name(name: str) -> str:
    """王**: a person's name keeps only its first character (the surname)."""
    name = (name or "").strip()
    return name[:1] + "*" * (len(name) - 1) if len(name) > 1 else "*"


# --- free text for the public (Open311, the resident's tracking page) --------------------------------

_D = r"(?<![0-9A-Za-z])"  # no digit/letter just before …
_E = r"(?![0-9A-Za-z])"  # … or just after
ID_NUMBER_RE = re.compile(
    _D + r"[1-9]\d{5}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx]" + _E
)
PHONE_RES = (
    # mobile, optionally +86 / 86 and spaces or dashes: 13800138000, +86 138-0013-8000
    re.compile(_D + r"(?:\+?86[ -]?)?1[3-9]\d(?:[ -]?\d{4}){2}" + _E),
    # landline with area code, optional extension: 0571-87654321, (0571)8765432, 010 12345678-801
    re.compile(r"(?<!\d)(?:\(0\d{2,3}\)|0\d{2,3})[ -]?[2-9]\d{6,7}(?:-\d{1,5})?(?!\d)"),
    # a local number without the area code: 87654321 (not a date such as 20261125)
    re.compile(
        _D + r"(?!(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])" + _E + r")[2-9]\d{6,7}" + _E
    ),
)


def _mask_phone_text(match: re.Match) -> str:
    """A phone number found in text, as digits: 138****8000 (like :func:`mask_phone`), a short local number
    keeping only its last 4 (****4321); a +86 prefix is dropped."""
    digits = re.sub(r"\D", "", match.group())
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    if len(digits) >= 11:
        return mask_phone(digits)
    return "*" * (len(digits) - 4) + digits[-4:]


_HAN = r"\u4e00-\u9fff"
SURNAMES = (
    "欧阳|司马|诸葛|上官|司徒|东方|皇甫|令狐|慕容|公孙|尉迟|长孙|宇文|夏侯|"
    "[王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫严段雷侯龙史陶黎贺顾毛郝龚邵万钱覃武戴莫孔向汤"
    "常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍"
    "涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党"
    "宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝]"
)
TITLE_RE = re.compile(
    f"(?:{SURNAMES})(?=(?:先生|女士|小姐|师傅|阿姨|大爷|大妈|大姐|大哥|老师|同学|奶奶|爷爷))"
)
NAME_LABEL_RE = re.compile(
    r"((?:姓名|联系人|反映人|来电人|报警人|投诉人|举报人|当事人|求助人|户主|业主|租户)\s*(?:[:：是为]\s*)?)"
    f"[{_HAN}·]{{2,4}}"
)


class PublicText:
    """Scrub free text for public output — Open311 bodies and the resident's tracking page: phone numbers (mobile
    and landline, masked like :func:`mask_phone`), 18-digit ID numbers, the names of the platform's staff (→
    工作人员), the names given per call (e.g. the case's reporter, masked like :func:`mask_name`), names after a
    label (姓名：…, 联系人…), and a surname before 先生/女士/师傅 … (→ 某先生). Build one per request
    (:func:`public_text`): it reads the staff names once."""

    def __init__(self, staff_names: Iterable[str] = ()):
        names = sorted({n for n in staff_names if n and len(n) >= 2}, key=len, reverse=True)
        self._staff = re.compile("|".join(map(_name_pattern, names))) if names else None

    def __call__(self, text: str | None, *, names: Iterable[str] = ()) -> str:
        text = text or ""
        if not text:
            return ""
        text = ID_NUMBER_RE.sub(lambda m: mask_id_number(m.group()), text)
        for pattern in PHONE_RES:
            text = pattern.sub(_mask_phone_text, text)
        for name in sorted({n.strip() for n in names if n and len(n.strip()) >= 2}, key=len, reverse=True):
            text = text.replace(name, mask_name(name))
        if self._staff is not None:
            text = self._staff.sub("工作人员", text)
        text = NAME_LABEL_RE.sub(lambda m: m.group(1) + "***", text)
        return TITLE_RE.sub("某", text)


def _name_pattern(name: str) -> str:
    """A staff name: a Chinese name anywhere; a login name (ASCII) only as a whole word."""
    escaped = re.escape(name)
    return f"(?<![0-9A-Za-z_]){escaped}(?![0-9A-Za-z_])" if name.isascii() else escaped


def public_text() -> PublicText:
    """A :class:`PublicText` that knows every person's account name and login name (one query); the service
    accounts of the intake channels (``_resident_intake``, ``open311-…``) are not people."""
    from civicgrid.accounts.models import User

    accounts = (
        User.objects.filter(is_system=False)
        .exclude(username__startswith="_")
        .exclude(username__startswith="open311-")
    )
    names = [n for pair in accounts.values_list("full_name", "username") for n in pair]
    return PublicText(names)


def reporter_phone(*, user, case: Case) -> str:
    """The reporter's phone as this user may see it: in full for 街道 roles, masked for everyone else."""
    return (
        case.reporter_phone
        if has_capability(user, Capability.SEE_FULL_PHONE)
        else mask_phone(case.reporter_phone)
    )
