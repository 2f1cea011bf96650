"""Every write of the Open311 app. Keyword-only; each write and its audit row commit in one transaction.

Keys: :func:`issue_key` / :func:`revoke_key` (系统管理员, or ``actor=None`` for the system itself) and
:func:`ensure_demo_key` for the demo loader. Requests: :func:`submit_request` creates the case through the case
engine; :func:`post_update` appends a peer system's public note to a case's timeline through the case engine.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime

from django.db import IntegrityError, transaction
from shapely.geometry import Point, shape

from civicgrid.accounts.models import SystemChannel
from civicgrid.accounts.roles import Role
from civicgrid.cases.channels import OPEN311_USERNAME_PREFIX
from civicgrid.cases.models import Case, Source
from civicgrid.core import audit, clock
from civicgrid.core.errors import DomainError, PermissionDenied, ValidationFailed
from civicgrid.core.roles import Capability, has_capability
from civicgrid.open311 import catalog
from civicgrid.open311.formats import BadRequest, Forbidden
from civicgrid.open311.models import InboundUpdate, Open311Key, ServiceRequest
from civicgrid.places.models import Building, Grid, Street

DEMO_KEY = "demo-open311-key"
DEMO_KEY_NAME = "示范对接系统（演示密钥）"


def _require_admin(actor) -> None:
    # actor None = the system itself (CLI, demo loader)
    if actor is not None and not has_capability(actor, Capability.SYSTEM_CONFIGURE):
        raise PermissionDenied("只有系统管理员可以管理 Open311 接口密钥")


def key_actor(key: Open311Key) -> str:
    """How an Open311 client appears in the audit log (it is not a user)."""
    return f"open311:{key.name}"[:150]


# --- keys -----------------------------------------------------------------------------------------


def _service_user(*, actor, name: str, street: Street):
    """The key's own account, the actor of the cases it creates (the case engine acts only for users): a system
    actor (no password, never logs in, not listed with the users; the audit log shows 系统（Open311：<用途>）), a
    grid worker with no grids (sees only what it created)."""
    from civicgrid.accounts import services as account_services

    return account_services.create_user(
        actor=actor,
        username=f"{OPEN311_USERNAME_PREFIX}{secrets.token_hex(5)}",  # how the case timeline recognises it
        password="",
        role=Role.GRID_WORKER,
        full_name=f"Open311 接口（{name}）"[:50],
        system_channel=SystemChannel.OPEN311,
        street=street,  # a key belongs to one 街道: its account too
    )


def _create_key(*, actor, name: str, street: Street, plain: str, action: str) -> Open311Key:
    key = Open311Key.objects.create(
        service_user=_service_user(actor=actor, name=name, street=street),
        name=name,
        key_prefix=plain[: Open311Key.PREFIX_LENGTH],
        key_hash=Open311Key.hash_key(plain),
        jurisdiction=street,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    audit.record(
        actor=actor,
        action=action,
        obj=key,
        after={"name": name, "jurisdiction": street.code, "key_prefix": key.key_prefix},
    )
    return key


def issue_key(*, actor, name: str, street: Street) -> tuple[Open311Key, str]:
    """Create a key for ``street``. Returns the row and the plain key, which is never shown again."""
    _require_admin(actor)
    name = (name or "").strip()
    if not name:
        raise ValidationFailed("请填写密钥用途（对接系统名称）", field="name")
    if street is None:
        raise ValidationFailed("请选择密钥所属街道", field="jurisdiction")
    from civicgrid.places.selectors import same_tier

    if actor is not None and not same_tier(actor, street.pk):
        raise PermissionDenied("不能为其他街道创建接口密钥", field="jurisdiction")
    plain = Open311Key.new_key()
    with transaction.atomic():
        key = _create_key(
            actor=actor, name=name[:100], street=street, plain=plain, action="open311.key.issue"
        )
    return key, plain


def revoke_key(*, actor, key: Open311Key) -> Open311Key:
    _require_admin(actor)
    with transaction.atomic():
        key = Open311Key.objects.select_for_update().get(pk=key.pk)
        if key.revoked_at is not None:
            raise ValidationFailed("该密钥已吊销", field="key")
        key.revoked_at = clock.now()
        key.save(update_fields=["revoked_at"])
        audit.record(actor=actor, action="open311.key.revoke", obj=key, after={"revoked_at": key.revoked_at})
        if key.service_user.is_active:
            from civicgrid.accounts import services as account_services

            account_services.deactivate_user(
                actor=actor, user=key.service_user, reason=f"Open311 接口密钥 {key.key_prefix}… 已吊销"
            )
    return key


def ensure_demo_key(*, street: Street) -> Open311Key:
    """The demo's well-known key ``demo-open311-key`` for ``street`` (idempotent: returns the existing row)."""
    digest = Open311Key.hash_key(DEMO_KEY)
    existing = Open311Key.objects.filter(key_hash=digest).first()
    if existing is not None:
        return existing
    with transaction.atomic():
        return _create_key(
            actor=None, name=DEMO_KEY_NAME, street=street, plain=DEMO_KEY, action="open311.key.demo"
        )


def authenticate(plain: str | None) -> Open311Key | None:
    """The active key for ``plain``, or None. Touches ``last_used_at`` at most once a minute."""
    if not plain:
        return None
    key = (
        Open311Key.objects.select_related("jurisdiction", "service_user")
        .filter(key_hash=Open311Key.hash_key(plain))
        .first()
    )
    if key is None or key.revoked_at is not None or not key.service_user.is_active:
        return None
    now = clock.now()
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        Open311Key.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key


# --- service requests -----------------------------------------------------------------------------


@dataclass
class RequestInput:
    """A parsed ``POST requests`` body (the view turns the form into this)."""

    service_code: str = ""
    lat: str = ""
    long: str = ""
    address_string: str = ""
    address_id: str = ""
    attributes: dict[str, list[str]] = field(default_factory=dict)
    description: str = ""
    media_url: str = ""
    email: str = ""
    first_name: str = ""
    last_name: str = ""
    phone: str = ""
    device_id: str = ""
    account_id: str = ""


def _coordinate(value: str, name: str, low: float, high: float) -> float:
    try:
        number = float(value)
    except ValueError:
        raise BadRequest(f"{name} 应为数字：{value}")
    if not (low <= number <= high):
        raise BadRequest(f"{name} 超出范围：{value}")
    return number


def point_in_street(street: Street, lng: float, lat: float) -> bool:
    """Is the point inside the 街道? The grid covering it (grids tile the 街道) decides; a point in no grid is
    inside if the 街道's boundary covers it. A 街道 with neither grids nor boundary cannot be checked and
    accepts the point."""
    from civicgrid.places.selectors import locate_grid_id

    grid_id = locate_grid_id(lng, lat)
    if grid_id is not None:
        return Grid.objects.filter(pk=grid_id, community__street=street).exists()
    if street.geometry:
        return shape(street.geometry).covers(Point(lng, lat))
    return not Grid.objects.filter(community__street=street, is_active=True).exists()


def _new_service_request_id() -> str:
    return f"311-{clock.local_now():%Y%m%d}-{secrets.token_hex(4).upper()}"


def _check_media_url(url: str) -> str:
    url = (url or "").strip()
    if not url:
        return ""
    if not url.lower().startswith(("http://", "https://")) or len(url) > 500 or any(c.isspace() for c in url):
        raise BadRequest(f"media_url 不是有效的 http(s) 链接：{url[:100]}")
    return url


def submit_request(*, key: Open311Key, data: RequestInput) -> ServiceRequest:
    """``POST requests``: validate, create the case through the case engine (source 居民随手拍, source_ref = the
    new service_request_id) and remember the Open311 bits. Raises :class:`BadRequest` for bad input."""
    from civicgrid.cases import services as case_services

    street = key.jurisdiction
    code = data.service_code.strip()
    if not code:
        raise BadRequest("缺少参数 service_code")
    category = catalog.service_categories().filter(code=code).first()
    if category is None:
        raise BadRequest(f"服务编码不存在：{code}")

    lng = lat = None
    address = data.address_string.strip()
    address_id = data.address_id.strip()
    if data.lat.strip() or data.long.strip():
        if not (data.lat.strip() and data.long.strip()):
            raise BadRequest("lat 与 long 须同时提供")
        lat = _coordinate(data.lat.strip(), "lat", -90, 90)
        lng = _coordinate(data.long.strip(), "long", -180, 180)
    if address_id:
        building = _building_for(address_id, street)
        address = address or building.address
        if lng is None and building.lng is not None and building.lat is not None:
            lng, lat = building.lng, building.lat
    if lng is None and not address:
        raise BadRequest("缺少位置：请提供 lat/long、address_string 或 address_id")
    if lng is not None and not point_in_street(street, lng, lat):
        raise BadRequest("该位置不在本接口密钥所属街道的辖区内")
    if len(address) > 200:
        raise BadRequest("address_string 过长（最多 200 字）")

    cleaned = catalog.clean_attributes(category, data.attributes)
    description = data.description.strip()
    if len(description) > 4000:
        raise BadRequest("description 过长（最多 4000 字）")
    extra = catalog.describe_attributes(category, cleaned)
    full_description = "\n".join(
        p for p in (description or category.name, extra and f"【附加信息】{extra}") if p
    )
    media_url = _check_media_url(data.media_url)
    email = data.email.strip()
    if email and ("@" not in email or len(email) > 254):
        raise BadRequest(f"email 格式不正确：{email[:100]}")
    reporter_name = f"{data.last_name.strip()}{data.first_name.strip()}"[:50]
    phone = data.phone.strip()[:30]

    with transaction.atomic():
        srid = _new_service_request_id()
        while ServiceRequest.objects.filter(service_request_id=srid).exists():
            srid = _new_service_request_id()
        try:
            case = case_services.create_case(
                actor=key.service_user,
                source=Source.OPEN311,
                description=full_description,
                category=category,
                lng=lng,
                lat=lat,
                address=address,
                reporter_name=reporter_name,
                reporter_phone=phone,
                source_ref=srid,
                place_checked=True,  # point_in_street above: the key's 街道 is the jurisdiction
            )
        except DomainError as exc:
            error = Forbidden if exc.status == 403 else BadRequest
            raise error(exc.message, error_code=exc.code)
        sr = ServiceRequest.objects.create(
            service_request_id=srid,
            token=ServiceRequest.new_token(),
            case=case,
            key=key,
            jurisdiction=street,
            service_code=category.code,
            attributes=cleaned,
            media_url=media_url,
            address_id=address_id[:100],
            email=email[:254],
            device_id=data.device_id.strip()[:100],
            account_id=data.account_id.strip()[:100],
        )
        audit.record(
            actor=key_actor(key),
            action="open311.request.create",
            obj=sr,
            after={
                "service_request_id": srid,
                "case": case.pk,
                "service_code": category.code,
                "key": key.key_prefix,
                "jurisdiction": street.code,
            },
        )
    return sr


def _building_for(address_id: str, street: Street) -> Building:
    building = None
    if address_id.isdigit():
        building = Building.objects.filter(pk=int(address_id), grid__community__street=street).first()
    if building is None:
        raise BadRequest(f"address_id 不存在：{address_id}")
    return building


# --- updates from a peer system --------------------------------------------------------------------

UPDATE_STATUSES = frozenset(
    {
        "open",
        "closed",
        "fixed",
        "in_progress",
        "action_scheduled",
        "investigating",
        "duplicate",
        "not_councils_responsibility",
        "no_further_action",
        "internal_referral",
    }
)


@dataclass
class UpdateInput:
    service_request_id: str = ""
    update_id: str = ""
    status: str = ""
    description: str = ""
    updated_datetime: datetime | None = None
    media_url: str = ""


def post_update(*, key: Open311Key, case: Case, data: UpdateInput) -> InboundUpdate:
    """Append a peer system's public note to the case timeline through the case engine. The peer's status is
    recorded with the note; it does not move the case (only the 街道's own staff do that). Re-posting the same
    ``update_id`` with the same key returns the first one (peers retry)."""
    from civicgrid.cases import services as case_services

    status = data.status.strip().lower()
    if not status:
        raise BadRequest("缺少参数 status")
    if status not in UPDATE_STATUSES:
        raise BadRequest(f"status 取值无效：{data.status}")
    description = data.description.strip()
    if not description:
        raise BadRequest("缺少参数 description")
    if len(description) > 4000:
        raise BadRequest("description 过长（最多 4000 字）")
    if data.updated_datetime is None:
        raise BadRequest("缺少参数 updated_datetime")
    media_url = _check_media_url(data.media_url)
    update_id = data.update_id.strip()[:100]
    if update_id:
        existing = InboundUpdate.objects.filter(key=key, external_update_id=update_id).first()
        if existing is not None:
            if existing.case_id != case.pk:
                raise BadRequest(f"update_id {update_id} 已用于其他服务请求")
            return existing

    try:
        with transaction.atomic():
            event = case_services.add_public_note(
                actor=key.service_user,
                case=case,
                note=description,
                data={"open311_status": status, "media_url": media_url, "external_update_id": update_id},
            )
            inbound = InboundUpdate.objects.create(
                key=key,
                case=case,
                external_update_id=update_id,
                event=event,
                status=status,
                description=description,
                media_url=media_url,
                updated_datetime=data.updated_datetime,
            )
            audit.record(
                actor=key_actor(key),
                action="open311.update.create",
                obj=inbound,
                after={
                    "case": case.pk,
                    "event": event.pk if event else None,
                    "status": status,
                    "external_update_id": update_id,
                    "key": key.key_prefix,
                },
            )
    except IntegrityError:
        # a concurrent retry of the same update_id won the race
        existing = InboundUpdate.objects.filter(key=key, external_update_id=update_id).first()
        if existing is None or not update_id:
            raise
        return existing
    except DomainError as exc:
        error = Forbidden if exc.status == 403 else BadRequest
        raise error(exc.message, error_code=exc.code)
    return inbound
