"""Roles and what each may do: the one place for role → capability decisions.

The roles live in core (the lowest layer) so that every app — places, accounts, cases and the apps on top —
can ask the same question, ``has_capability(user, Capability.CASE_DISPATCH)``, instead of comparing
``user.role`` by hand. Row-level scope (which cases/grids a user sees or may change) stays in each app's
``selectors.py`` (:mod:`civicgrid.core.scoping`); the workflow table (``cases/workflow.py``) still decides which
role may make which move on which case. Capabilities answer "may this role do this kind of thing at all".
"""

from __future__ import annotations

from civicgrid.core.choices import ColoredChoices


class Role(ColoredChoices):
    SYSTEM_ADMIN = "system_admin", ("系统管理员", "dark")
    AUDIT_ADMIN = "audit_admin", ("审计管理员", "secondary")
    DISPATCHER = "dispatcher", ("指挥中心受理员/派遣员", "primary")
    SHIFT_LEADER = "shift_leader", ("值班长", "info")
    DEPT_HANDLER = "dept_handler", ("处置部门人员", "warning")
    COMMUNITY_STAFF = "community_staff", ("社区工作人员", "success")
    GRID_WORKER = "grid_worker", ("网格员", "success")
    LEADER = "leader", ("领导", "danger")


# roles that see the whole 街道 (read)
STREET_ROLES = frozenset({Role.SYSTEM_ADMIN, Role.DISPATCHER, Role.SHIFT_LEADER, Role.LEADER})
# roles that work with business data at all (the audit admin only reads the audit log: 三权分立)
BUSINESS_ROLES = frozenset(set(Role) - {Role.AUDIT_ADMIN})


class Capability(ColoredChoices):
    """Named capabilities. The value is stable (templates and tests use it); the label is for people."""

    BUSINESS_VIEW = "business_view", "查看业务数据（网格地图、工单、待办、通知）"
    STREET_WIDE_VIEW = "street_wide_view", "查看全街道数据"
    CASE_CREATE = "case_create", "上报/新建工单"
    CASE_DISPATCH = "case_dispatch", "受理、派遣、改派、结案、回访（指挥中心）"
    CASE_SUPERVISE = "case_supervise", "督办"
    CASE_HANDLE = "case_handle", "签收、处置、退回（处置部门）"
    CASE_CHANGE_ANY = "case_change_any", "修改全街道的工单"
    CASE_FOLLOWUP = "case_followup", "回访已结案工单"
    ATTACHMENT_UPLOAD = "attachment_upload", "上传工单照片"
    FIELD_PATROL = "field_patrol", "网格员现场上报"
    DESK_INTAKE = "desk_intake", "交办/舆情/信访录入"
    IMPORT_HOTLINE = "import_hotline", "导入12345工单"
    EXPORT_CASES = "export_cases", "导出工单"
    SEE_FULL_PHONE = "see_full_phone", "查看诉求人完整电话"
    DISPUTE_MEDIATE = "dispute_mediate", "人民调解（查看当事人完整信息、生成协议书）"
    PERSON_FULL_VIEW = "person_full_view", "查看人员完整身份证号/电话（逐次留痕）"
    AUDIT_READ = "audit_read", "查看审计日志"
    SYSTEM_CONFIGURE = "system_configure", "系统配置（账号、网格、分类、日历、接口密钥）"


C = Capability
_DESK = {C.CASE_DISPATCH, C.CASE_FOLLOWUP, C.DESK_INTAKE, C.IMPORT_HOTLINE, C.CASE_CHANGE_ANY}
_BUSINESS = {C.BUSINESS_VIEW, C.EXPORT_CASES}

ROLE_CAPABILITIES: dict[str, frozenset[Capability]] = {
    Role.SYSTEM_ADMIN: frozenset(
        _BUSINESS | {C.STREET_WIDE_VIEW, C.SEE_FULL_PHONE, C.IMPORT_HOTLINE, C.SYSTEM_CONFIGURE}
    ),
    Role.AUDIT_ADMIN: frozenset({C.AUDIT_READ}),
    Role.DISPATCHER: frozenset(
        _BUSINESS
        | _DESK
        | {C.STREET_WIDE_VIEW, C.SEE_FULL_PHONE, C.CASE_CREATE, C.ATTACHMENT_UPLOAD, C.DISPUTE_MEDIATE}
    ),
    Role.SHIFT_LEADER: frozenset(
        _BUSINESS
        | _DESK
        | {
            C.STREET_WIDE_VIEW,
            C.SEE_FULL_PHONE,
            C.CASE_CREATE,
            C.CASE_SUPERVISE,
            C.ATTACHMENT_UPLOAD,
            C.DISPUTE_MEDIATE,
        }
    ),
    Role.DEPT_HANDLER: frozenset(_BUSINESS | {C.CASE_HANDLE, C.ATTACHMENT_UPLOAD}),
    Role.COMMUNITY_STAFF: frozenset(_BUSINESS | {C.CASE_CREATE, C.ATTACHMENT_UPLOAD}),
    Role.GRID_WORKER: frozenset(_BUSINESS | {C.CASE_CREATE, C.FIELD_PATROL, C.ATTACHMENT_UPLOAD}),
    Role.LEADER: frozenset(
        _BUSINESS
        | {
            C.STREET_WIDE_VIEW,
            C.SEE_FULL_PHONE,
            C.CASE_CREATE,
            C.CASE_SUPERVISE,
            C.ATTACHMENT_UPLOAD,
            C.PERSON_FULL_VIEW,
        }
    ),
}
del C


def capabilities(role: str | None) -> frozenset[Capability]:
    return ROLE_CAPABILITIES.get(role or "", frozenset())


def roles_with(capability: str) -> frozenset[str]:
    """The roles holding ``capability`` (e.g. for a menu comment or a query of users to notify)."""
    return frozenset(r for r, caps in ROLE_CAPABILITIES.items() if capability in caps)


def has_capability(user, capability: str) -> bool:
    """May ``user`` (active, logged in) do this kind of thing at all? Unknown users and roles: no."""
    if user is None or not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return False
    return capability in capabilities(getattr(user, "role", None))
