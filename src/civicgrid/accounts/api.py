from __future__ import annotations

from ninja import Router, Schema

from civicgrid.accounts import selectors

router = Router(tags=["账号"])


class MeOut(Schema):
    id: int
    username: str
    full_name: str
    role: str
    role_label: str
    department: str | None = None
    community: str | None = None
    grids: list[str]
    street: str | None = None  # the account's 街道 (empty for a 区-level account)
    district: str | None = None  # its 区 (a 街道 account's follows its 街道)
    tier_label: str = ""  # 「某街道」 or 「某区（区级）」


class DepartmentOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    phone: str


@router.get("/me", response=MeOut, summary="当前用户")
def me(request):
    u = request.auth
    return MeOut(
        id=u.pk,
        username=u.username,
        full_name=u.full_name,
        role=u.role,
        role_label=u.get_role_display(),
        department=u.department.name if u.department_id else None,
        community=u.community.name if u.community_id else None,
        grids=list(u.grids.values_list("code", flat=True)),
        street=u.street.name if u.street_id else None,
        district=u.district.name if u.district_id else None,
        tier_label=u.tier_label,
    )


@router.get("/departments", response=list[DepartmentOut], summary="处置部门列表")
def departments(request):
    return list(selectors.visible_departments(user=request.auth))
