"""Every write to accounts. Keyword-only, typed, takes ``actor``; write + audit in one transaction."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import NamedTuple

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import translation

from civicgrid.accounts.models import ApiToken, Department, SystemChannel, User
from civicgrid.accounts.roles import Role
from civicgrid.core import audit, clock, revisions
from civicgrid.core.errors import PermissionDenied, ValidationFailed
from civicgrid.core.revcache import RevisionCache
from civicgrid.core.roles import Capability, has_capability


def _require_admin(actor) -> None:
    # actor None = the system itself (CLI bootstrap, demo loader)
    if actor is not None and not has_capability(actor, Capability.SYSTEM_CONFIGURE):
        raise PermissionDenied("只有系统管理员可以管理账号和部门")


def _protect_auditor(actor, user: User | None = None, *, role: str | None = None) -> None:
    """三权分立: an 审计管理员 account is created and changed only by the system itself (``civicgrid auditor`` on
    the server, actor ``None``) or, for their own password, by the auditor; never by the 系统管理员."""
    if actor is None:
        return
    touches_auditor = (user is not None and user.role == Role.AUDIT_ADMIN) or role == Role.AUDIT_ADMIN
    if touches_auditor and not (user is not None and actor.pk == user.pk and role is None):
        raise PermissionDenied("审计管理员账号只能在服务器上用 civicgrid auditor 命令管理（三权分立）")


def _check_password(password: str, user: User | None = None) -> None:
    try:
        with translation.override(settings.LANGUAGE_CODE):  # CLI/demo run outside a request: still Chinese
            validate_password(password, user)
    except DjangoValidationError as exc:
        raise ValidationFailed("；".join(exc.messages), field="password")


def create_user(
    *,
    actor,
    username: str,
    password: str,
    role: str,
    full_name: str = "",
    phone: str = "",
    department: Department | None = None,
    community=None,
    grids: Iterable = (),
    is_staff: bool = False,
    is_superuser: bool = False,
    system_channel: str = "",
    street=None,
    district=None,
) -> User:
    """A new account. With ``system_channel`` (:class:`~civicgrid.accounts.models.SystemChannel`) a *system
    actor* instead: the account a channel without a person acts through; it has no password, never logs in and
    is not listed with the users (``password`` is ignored).

    Tier: ``street`` (a 街道 account), or ``district`` without ``street`` (a 区-level account). Without either,
    the 街道 of the community, department or grids given, else the creating administrator's 街道, else the only
    街道 of the database; a 系统管理员 created with none of these is the platform's (sees every 区). An
    administrator creates accounts only within its own tier."""
    _require_admin(actor)
    _protect_auditor(actor, role=role)
    username = (username or "").strip()
    if not username:
        raise ValidationFailed("账号不能为空", field="username")
    if role not in Role.values:
        raise ValidationFailed(f"未知角色：{role}", field="role")
    if role == Role.DEPT_HANDLER and department is None:
        raise ValidationFailed("处置部门人员必须指定所属部门", field="department")
    if role == Role.COMMUNITY_STAFF and community is None:
        raise ValidationFailed("社区工作人员必须指定所属社区", field="community")
    if User.objects.filter(username=username).exists():
        raise ValidationFailed(f"账号 {username} 已存在", field="username")
    grids = list(grids)
    street, district = _account_tier(
        actor, street=street, district=district, community=community, department=department, grids=grids
    )
    user = User(
        street=street,
        district=district,
        username=username,
        role=role,
        full_name=full_name,
        phone=phone,
        department=department,
        community=community,
        is_staff=is_staff or role in (Role.SYSTEM_ADMIN, Role.AUDIT_ADMIN),
        is_superuser=is_superuser,
    )
    if system_channel:
        if system_channel not in SystemChannel.values:
            raise ValidationFailed(f"未知系统渠道：{system_channel}", field="system_channel")
        user.is_system, user.system_channel = True, system_channel
        user.is_staff = user.is_superuser = False
        user.set_unusable_password()
    else:
        _check_password(password, user)
        user.set_password(password)
    with transaction.atomic():
        user.save()
        if grids:
            if role != Role.GRID_WORKER:
                raise ValidationFailed("只有网格员可以分配负责网格", field="grids")
            user.grids.set(grids)
        after = audit.snapshot(user)
        after["grids"] = [g.code for g in grids]
        audit.record(actor=actor, action="accounts.user.create", obj=user, after=after)
    return user


def _account_tier(actor, *, street, district, community, department, grids) -> tuple:
    """(street, district) for a new account: see :func:`create_user`. Refuses a tier outside the actor's."""
    from civicgrid.places.models import Street
    from civicgrid.places.selectors import only_street_id, tier_street_ids

    if street is None:
        if community is not None:
            street = community.street
        elif department is not None and department.street_id is not None:
            street = department.street
        elif grids:
            street = grids[0].community.street
        elif district is None and getattr(actor, "street_id", None) is not None:
            street = actor.street
        elif district is None and getattr(actor, "district_id", None) is not None:
            district = actor.district
        elif district is None:
            only = only_street_id()
            street = Street.objects.get(pk=only) if only is not None else None
    if street is not None:
        district = street.district
    if actor is not None and getattr(actor, "is_authenticated", False):
        ids = tier_street_ids(actor)
        if ids is not None:
            if street is not None and street.pk not in ids:
                raise ValidationFailed("不能在其他街道创建账号或部门", field="street")
            if street is None and (getattr(actor, "street_id", None) is not None or district is None):
                raise ValidationFailed("只有区级或平台系统管理员可以创建区级账号或部门", field="district")
            if street is None and district is not None and district.pk != actor.district_id:
                raise ValidationFailed("不能在其他区创建账号或部门", field="district")
    return street, district


def _refuse_system(user: User) -> None:
    if user.is_system:
        raise ValidationFailed(
            f"「{user.system_label}」是系统账号，不能登录，也不能设置密码或签发令牌", field="user"
        )


def set_password(*, actor, user: User, password: str) -> None:
    if actor is not None and actor.pk != user.pk:
        _require_admin(actor)
    _protect_auditor(actor, user)
    _refuse_system(user)
    _check_password(password, user)
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        audit.record(actor=actor, action="accounts.user.set_password", obj=user, note="修改密码")


def set_grids(*, actor, user: User, grids: Iterable) -> None:
    _require_admin(actor)
    if user.role != Role.GRID_WORKER:
        raise ValidationFailed("只有网格员可以分配负责网格", field="grids")
    grids = list(grids)
    with transaction.atomic():
        before = sorted(user.grids.values_list("code", flat=True))
        user.grids.set(grids)
        audit.record(
            actor=actor,
            action="accounts.user.set_grids",
            obj=user,
            before={"grids": before},
            after={"grids": sorted(g.code for g in grids)},
        )


def deactivate_user(*, actor, user: User, reason: str) -> None:
    _require_admin(actor)
    _protect_auditor(actor, user, role=user.role)
    if not reason.strip():
        raise ValidationFailed("请填写停用原因", field="reason")
    with transaction.atomic():
        user.is_active = False
        user.save(update_fields=["is_active"])
        audit.record(actor=actor, action="accounts.user.deactivate", obj=user, note=reason)


def activate_user(*, actor, user: User, reason: str) -> None:
    _require_admin(actor)
    _protect_auditor(actor, user, role=user.role)
    if not reason.strip():
        raise ValidationFailed("请填写启用原因", field="reason")
    with transaction.atomic():
        user.is_active = True
        user.save(update_fields=["is_active"])
        audit.record(actor=actor, action="accounts.user.activate", obj=user, note=reason)


def create_department(
    *,
    actor,
    code: str,
    name: str,
    kind: str = "other",
    phone: str = "",
    community=None,
    sort_order: int = 100,
    street=None,
    district=None,
) -> Department:
    """A 处置部门 of a 街道 (``street``; default: its community's, else the administrator's, else the only 街道),
    or a 区-level one (``district`` without ``street``)."""
    _require_admin(actor)
    if not code.strip():
        raise ValidationFailed("部门编码不能为空", field="code")
    if not name.strip():
        raise ValidationFailed("部门名称不能为空", field="name")
    if Department.objects.filter(code=code).exists():
        raise ValidationFailed(f"部门编码 {code} 已存在", field="code")
    if Department.objects.filter(name=name).exists():
        raise ValidationFailed(f"部门名称 {name} 已存在", field="name")
    with transaction.atomic():
        street, district = _account_tier(
            actor, street=street, district=district, community=community, department=None, grids=[]
        )
        dept = Department.objects.create(
            code=code,
            name=name,
            kind=kind,
            phone=phone,
            community=community,
            sort_order=sort_order,
            street=street,
            district=district,
        )
        audit.record(actor=actor, action="accounts.department.create", obj=dept, after=audit.snapshot(dept))
    return dept


def issue_token(*, actor, user: User, name: str, expires_at=None) -> tuple[ApiToken, str]:
    """Create a machine token. Returns the token row and the plain key, which is never shown again."""
    if actor is not None and actor.pk != user.pk:
        _require_admin(actor)
    _protect_auditor(actor, user)
    _refuse_system(user)
    if not name.strip():
        raise ValidationFailed("请填写令牌用途", field="name")
    key = ApiToken.new_key()
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user, name=name, key_prefix=key[:10], key_hash=ApiToken.hash_key(key), expires_at=expires_at
        )
        audit.record(
            actor=actor, action="accounts.token.issue", obj=token, after={"user": user.username, "name": name}
        )
    return token, key


def revoke_token(*, actor, token: ApiToken) -> None:
    if actor is not None and actor.pk != token.user_id:
        _require_admin(actor)
    with transaction.atomic():
        token.revoked_at = clock.now()
        token.save(update_fields=["revoked_at"])
        audit.record(actor=actor, action="accounts.token.revoke", obj=token)


# --- API token authentication (every machine request) -----------------------------------------------

AUTH_REVISION = "accounts.auth"
# an entry is re-read after this many seconds even if nothing bumped the revision (a write without signals)
TOKEN_CACHE_MAX_AGE = 60.0
TOKEN_CACHE_MAX_ENTRIES = 10_000
LAST_USED_RESOLUTION = 60  # seconds: ``last_used_at`` is written at most this often per token


class _TokenEntry(NamedTuple):
    token: tuple
    user: tuple
    loaded_at: float


_token_cache: RevisionCache[dict[str, _TokenEntry]] = revisions.cached(AUTH_REVISION, dict)


def authenticate_token(key: str) -> User | None:
    """The active user behind a valid (not revoked, not expired) token key, else ``None``.

    Known tokens are kept per process with their user's row, so a request costs no query; any change to a user
    or a token (deactivation, role change, revocation) empties every server's copy within a second, and an
    entry is re-read after :data:`TOKEN_CACHE_MAX_AGE` seconds in any case. Unknown keys are never cached.
    """
    if not key or not key.startswith(ApiToken.PREFIX):
        return None
    key_hash = ApiToken.hash_key(key)
    entries = _token_cache.get()
    entry = entries.get(key_hash)
    if entry is None or time.monotonic() - entry.loaded_at > TOKEN_CACHE_MAX_AGE:
        found = ApiToken.objects.select_related("user").filter(key_hash=key_hash).first()
        if found is None:
            entries.pop(key_hash, None)
            return None
        entry = _TokenEntry(revisions.freeze(found), revisions.freeze(found.user), time.monotonic())
        if len(entries) >= TOKEN_CACHE_MAX_ENTRIES:
            entries.clear()
        entries[key_hash] = entry
    token = revisions.thaw(ApiToken, entry.token)
    token.user = revisions.thaw(User, entry.user)
    if not token.is_valid:
        return None
    now = clock.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
        entries[key_hash] = entry._replace(token=revisions.freeze(token))
    return token.user
