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
