"""居民随手拍: the public (no account) mobile report page, its tracking page and the public grid outlines.

- ``/s/``                report form (HTML; ``resident.js`` posts it with ``Accept: application/json``)
- ``/s/t/``              enter a tracking code;  ``/s/t/<code>/`` the progress of one report
- ``/s/grids.json``      grid outlines for the tap-to-locate map (geometry only: no names, no staff)

A report becomes a case through :func:`civicgrid.cases.services.create_case` (``source=resident``) with an
unguessable tracking code as ``source_ref``. Photos are decoded, their EXIF GPS read and then re-encoded without
metadata (:mod:`civicgrid.intake.photos`). Abuse limits and the arithmetic challenge live in
:mod:`civicgrid.intake.abuse`.

The tracking page shows what a resident may see: the state in plain words, dates, and the public replies
(不予受理说明, 处理结果) with staff names and phone numbers masked. It never shows who handled the case.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass

from django import forms
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from civicgrid.accounts.models import SystemChannel, User
from civicgrid.accounts.roles import Role
from civicgrid.cases import channels, procedures
from civicgrid.cases import selectors as case_selectors
from civicgrid.cases.models import Attachment, AttachmentKind, Case, CaseState, Category, Source
from civicgrid.cases.services import create_case
from civicgrid.core import audit, geoindex
from civicgrid.core.errors import DomainError
from civicgrid.core.middleware import client_ip
from civicgrid.intake import abuse
from civicgrid.intake.photos import MAX_PHOTOS, clean_photos, gps_from_exif_bytes
from civicgrid.places.models import Grid, Street

# --- the resident's plain-word categories -----------------------------------------------------------


@dataclass(frozen=True)
class ResidentKind:
    key: str
    label: str
    hint: str
    glyph: str  # one character on a coloured badge (renders on every phone; emoji fonts vary)
    color: str
    codes: tuple[str, ...]  # Category.code candidates, first enabled one wins


RESIDENT_KINDS: tuple[ResidentKind, ...] = (
    ResidentKind(
        "garbage", "垃圾堆放", "乱堆、垃圾桶满溢", "垃", "#2e9d4f", ("S06010", "S06042", "S06036", "S06011")
    ),
    ResidentKind("vending", "占道经营", "摆摊、店外经营", "摊", "#f29f05", ("S09006", "S09005", "S09001")),
    ResidentKind("manhole", "井盖破损", "缺失、松动、破损", "井", "#c8102e", ("S01023", "S01002", "S01003")),
    ResidentKind("streetlight", "路灯不亮", "路灯不亮、损坏", "灯", "#e0a800", ("S01037",)),
    ResidentKind("noise", "噪声扰民", "施工、商铺噪声", "噪", "#7b2cbf", ("S06028",)),
    ResidentKind("building", "违章搭建", "私搭乱建、乱改建", "建", "#8d5524", ("S06001", "J92004")),
    ResidentKind("fire", "消防隐患", "堵通道、飞线充电", "火", "#d62828", ("J92001", "S09012", "J92005")),
    ResidentKind("dispute", "邻里纠纷", "邻居矛盾需要调解", "邻", "#0096c7", ("J91001", "J91099")),
    ResidentKind("parking", "乱停车", "汽车、电动车乱停", "车", "#1d4e89", ("S09009", "S09010")),
    ResidentKind("road", "道路破损", "坑洼、台阶破损", "路", "#6c757d", ("S06013", "S06049")),
    ResidentKind("fumes", "油烟污染", "油烟、露天烧烤", "烟", "#495057", ("S06027", "S06029")),
    ResidentKind("other", "其他问题", "以上都不是", "他", "#3d5a80", ("J99001",)),
)
KINDS_BY_KEY = {k.key: k for k in RESIDENT_KINDS}
KIND_BY_CODE = {code: k for k in RESIDENT_KINDS for code in k.codes}


def resolve_category(kind: ResidentKind) -> Category | None:
    """The engine's Category row for a plain-word choice: the first of its codes that exists and is enabled."""
    rows = {c.code: c for c in Category.objects.filter(code__in=kind.codes, is_enabled=True, level="minor")}
    for code in kind.codes:
        if code in rows:
            return rows[code]
    return None


# --- tracking codes -------------------------------------------------------------------------------

# Crockford base32: no I, L, O, U; 10 characters = 50 random bits
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 10
_CODE_FIX = str.maketrans({"O": "0", "I": "1", "L": "1", "U": "V"})


def new_tracking_code() -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if not Case.objects.filter(source=Source.RESIDENT, source_ref=code).exists():
            return code


def normalize_code(raw: str) -> str | None:
    code = re.sub(r"[\s\-_]", "", (raw or "").upper()).translate(_CODE_FIX)
    if len(code) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in code):
        return None
    return code


def format_code(code: str) -> str:
    return f"{code[:5]}-{code[5:]}"


# --- the account a resident's report is filed under ----------------------------------------------

INTAKE_USERNAME = channels.RESIDENT_USERNAME  # "_resident_intake"
INTAKE_DISPLAY_NAME = "居民随手拍"


def intake_actor() -> User:
    """The service account the case engine records as the reporter of 随手拍 cases.

    ``create_case`` requires an authenticated actor in a reporting role; residents have no account. This
    account is a system actor: it cannot log in (unusable password, and the login refuses system actors), is not
    listed with the users, and as 社区工作人员 without a community sees no data; the audit log shows it as
    系统（居民随手拍）.
    """
    user = User.objects.filter(username=INTAKE_USERNAME).first()
    if user is not None:
        return user
    with transaction.atomic():
        user, created = User.objects.get_or_create(
            username=INTAKE_USERNAME,
            defaults={
                "full_name": INTAKE_DISPLAY_NAME,
                "role": Role.COMMUNITY_STAFF,
                "is_active": True,
                "is_system": True,
                "system_channel": SystemChannel.RESIDENT,
                # the channel's 街道 (the one the public page centres on): a report it cannot place on a grid
                # belongs there; a located report belongs to its grid's 街道
                "street": _street(),
            },
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
            audit.record(
                actor=None,
                action="intake.resident.service_account",
                obj=user,
                after={"username": INTAKE_USERNAME},
                note="居民随手拍上报使用的系统账号（不可登录）",
            )
    return user


# --- the form -------------------------------------------------------------------------------------

PHONE_RE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")


class ResidentReportForm(forms.Form):
    kind = forms.ChoiceField(
        label="问题类型",
        choices=[(k.key, k.label) for k in RESIDENT_KINDS],
        error_messages={"required": "问题类型：请选择问题类型", "invalid_choice": "问题类型：请从列表中选择"},
    )
    description = forms.CharField(
        label="问题描述",
        min_length=5,
        max_length=1000,
        error_messages={
            "required": "问题描述：请简要说明问题",
            "min_length": "问题描述：请至少写 5 个字，说清楚是什么问题",
            "max_length": "问题描述：不能超过 1000 字",
        },
    )
    lng = forms.FloatField(required=False, min_value=-180, max_value=180)
    lat = forms.FloatField(required=False, min_value=-90, max_value=90)
    address = forms.CharField(
        label="位置说明",
        required=False,
        max_length=200,
        error_messages={"max_length": "位置说明：不能超过 200 字"},
    )
    phone = forms.CharField(label="联系电话", required=False, max_length=20)
    challenge_token = forms.CharField(required=False)
    challenge_answer = forms.CharField(required=False, max_length=10)

    def clean_description(self):
        return self.cleaned_data["description"].strip()

    def clean_address(self):
        return self.cleaned_data.get("address", "").strip()

    def clean_phone(self):
        raw = re.sub(r"[\s()（）]", "", self.cleaned_data.get("phone", ""))
        if raw.startswith("+86"):
            raw = raw[3:]
        if raw and not PHONE_RE.match(raw):
            raise forms.ValidationError("联系电话：请填写 11 位手机号，或带区号的固定电话")
        return raw

    def clean(self):
        data = super().clean()
        if (data.get("lng") is None) != (data.get("lat") is None):
            self.add_error(None, "位置：定位信息不完整，请重新定位或在地图上点选")
        return data


class SubmissionRejected(Exception):
    def __init__(self, errors: dict[str, str], status: int = 422):
        super().__init__("; ".join(errors.values()))
        self.errors = errors
        self.status = status


FIELD_ALIASES = {
    "attachments": "photos",
    "lng": "location",
    "lat": "location",
    "grid": "location",
    "address": "location",
    "category": "kind",
    "reporter_phone": "phone",
}
FIELD_LABELS = {
    "kind": "问题类型",
    "description": "问题描述",
    "photos": "照片",
    "location": "位置",
    "phone": "联系电话",
    "challenge": "验证题",
}


def _form_errors(form: forms.Form) -> dict[str, str]:
    errors: dict[str, str] = {}
    for name, errs in form.errors.items():
        key = "location" if name in ("lng", "lat", "__all__") else name
        message = str(errs[0])
        if name in ("lng", "lat"):
            message = "位置：定位坐标无效，请重新定位或在地图上点选"
        errors.setdefault(key, message)
    return errors


def _needs_challenge(device: str | None) -> bool:
    """A client without the device cookie (a script) always answers the question; a device after two reports
    in ten minutes too."""
    return device is None or abuse.exceeded(abuse.CHALLENGE_AFTER, device)


def _locate(lng: float, lat: float) -> Grid | None:
    grid_id = geoindex.locate(lng, lat)
    if grid_id is None:
        return None
    return Grid.objects.filter(pk=grid_id).first()


def submit_report(request) -> tuple[Case, str]:
    """Validate one POST and file the case. Raises :class:`SubmissionRejected` with per-field messages.

    The device's and the IP's submission slots are reserved before the work and given back if the report is not
    filed, so racing requests on several workers cannot exceed a limit."""
    ip, device = client_ip(request), abuse.device_id(request)
    if abuse.exceeded(abuse.IP_ATTEMPTS, ip) or abuse.exceeded(abuse.DEVICE_ATTEMPTS, device):
        raise SubmissionRejected({"form": "提交过于频繁，请一小时后再试"}, status=429)
    abuse.hit(abuse.IP_ATTEMPTS, ip)
    abuse.hit(abuse.DEVICE_ATTEMPTS, device)
    device_slot = abuse.take(abuse.DEVICE_SUBMISSIONS, device)
    if device_slot is None:
        raise SubmissionRejected(
            {"form": f"同一手机一小时内最多提交 {abuse.DEVICE_SUBMISSIONS.count} 次，请稍后再试"}, status=429
        )
    ip_slot = abuse.take(abuse.IP_SUBMISSIONS, ip)
    if ip_slot is None:
        device_slot.give_back()
        raise SubmissionRejected(
            {"form": f"同一网络一小时内最多提交 {abuse.IP_SUBMISSIONS.count} 次，请稍后再试"}, status=429
        )
    try:
        case, code = _file_report(request, device)
    except BaseException:
        device_slot.give_back()
        ip_slot.give_back()
        raise
    abuse.hit(abuse.CHALLENGE_AFTER, device)
    return case, code


def _file_report(request, device: str | None) -> tuple[Case, str]:
    form = ResidentReportForm(request.POST)
    valid = form.is_valid()
    errors = {} if valid else _form_errors(form)
    data = form.cleaned_data
    phone = data.get("phone") or ""
    if phone and abuse.exceeded(abuse.PHONE_SUBMISSIONS, phone):
        raise SubmissionRejected(
            {"phone": f"联系电话：该号码一小时内最多提交 {abuse.PHONE_SUBMISSIONS.count} 次，请稍后再试"},
            status=429,
        )
    if _needs_challenge(device):
        problem = abuse.check_challenge(
            request.POST.get("challenge_token", ""), request.POST.get("challenge_answer", "")
        )
        if problem:
            errors["challenge"] = problem

    uploads = request.FILES.getlist("photos")
    photos = []
    try:
        photos = clean_photos(uploads)
    except DomainError as exc:
        errors["photos"] = exc.message

    # where: the phone's position or a tap on the map, else the photos' EXIF GPS, else the description
    lng, lat = data.get("lng"), data.get("lat")
    grid = None
    if "location" not in errors and lng is not None and lat is not None:
        grid = _locate(lng, lat)
        if grid is None:
            errors["location"] = "位置：所选位置不在本街道的网格范围内，请在地图上的网格内点选问题位置"
    elif "location" not in errors:
        lng = lat = None
        candidates = [p.gps for p in photos if p.gps]
        exif_blob = request.FILES.get("exif")
        if exif_blob is not None and exif_blob.size <= 256 * 1024:
            gps = gps_from_exif_bytes(exif_blob.read())
            if gps:
                candidates.append(gps)
        for cand in candidates:
            found = _locate(*cand)
            if found is not None:  # a photo taken elsewhere does not place the report
                lng, lat = cand
                grid = found
                break
        if grid is None and len(data.get("address") or "") < 4:
            errors["location"] = (
                "位置：请点“使用我的位置”、在地图上点选问题位置，或填写位置说明（至少 4 个字）"
            )

    if errors:
        raise SubmissionRejected(errors)

    kind = KINDS_BY_KEY[data["kind"]]
    category = resolve_category(kind)
    description = data["description"]
    if category is None:
        description = f"【居民所选类型：{kind.label}】{description}"
    code = new_tracking_code()
    try:
        case = create_case(
            actor=intake_actor(),
            source=Source.RESIDENT,
            description=description,
            category=category,
            lng=lng,
            lat=lat,
            address=data.get("address") or "",
            grid=grid,
            reporter_phone=phone,
            source_ref=code,
            attachments=[p.as_upload() for p in photos],
            channel=channels.RESIDENT,
            place_checked=True,  # located in the 街道's grids above; the service account has no patch
        )
    except DomainError as exc:
        field = FIELD_ALIASES.get(exc.field or "", exc.field or "form")
        label = FIELD_LABELS.get(field)
        message = exc.message if not label or exc.message.startswith(label) else f"{label}：{exc.message}"
        raise SubmissionRejected({field: message}, status=exc.status if exc.status != 403 else 422)
    if phone:
        abuse.hit(abuse.PHONE_SUBMISSIONS, phone)
    return case, code


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _street() -> Street | None:
    return Street.objects.order_by("code").first()


def _form_context(request, *, errors=None, form_data=None, challenge=None) -> dict:
    # a first visit (no device cookie yet) gets its cookie with this page, so it needs no question
    device = abuse.device_id(request)
    if challenge is None and device is not None and _needs_challenge(device):
        challenge = abuse.new_challenge()
    street = _street()
    return {
        "kinds": RESIDENT_KINDS,
        "errors": errors or {},
        "data": form_data or {},
        "challenge": challenge,
        "max_photos": MAX_PHOTOS,
        "street_name": street.name if street else "",
        "center": [street.center_lng, street.center_lat] if street and street.center_lng else None,
    }


@never_cache
@require_http_methods(["GET", "POST"])
def report(request):
    """The 随手拍 form (GET) and its submission (POST, multipart)."""
    if request.method == "GET":
        response = render(request, "intake/resident/report.html", _form_context(request))
        abuse.issue_device(request, response)
        return response
    try:
        case, code = submit_report(request)
    except SubmissionRejected as rej:
        challenge = abuse.new_challenge() if _needs_challenge(abuse.device_id(request)) else None
        if _wants_json(request):
            body = {"ok": False, "errors": rej.errors}
            if challenge:
                body["challenge"] = {"question": challenge.question, "token": challenge.token}
            response = JsonResponse(body, status=rej.status)
        else:
            ctx = _form_context(request, errors=rej.errors, form_data=request.POST, challenge=challenge)
            ctx["photos_lost"] = bool(request.FILES.getlist("photos"))
            response = render(request, "intake/resident/report.html", ctx, status=rej.status)
        abuse.issue_device(request, response)
        return response
    url = reverse("resident:track", args=[code]) + "?new=1"
    if _wants_json(request):
        response = JsonResponse(
            {"ok": True, "code": format_code(code), "tracking_url": url, "redirect": url}, status=201
        )
    else:
        response = redirect(url)
    abuse.issue_device(request, response)
    return response


# --- tracking -------------------------------------------------------------------------------------

PUBLIC_STATE = {
    CaseState.REPORTED: ("已收到，等待受理", "secondary"),
    CaseState.ACCEPTED: ("已受理，正在安排处理", "primary"),
    CaseState.REJECTED: ("不予受理", "dark"),
    CaseState.DISPATCHED: ("已转交处理部门", "info"),
    CaseState.HANDLING: ("正在处理", "warning"),
    CaseState.HANDLED: ("已处理，正在核查", "info"),
    CaseState.VERIFIED: ("核查通过，即将办结", "primary"),
    CaseState.CLOSED: ("已办结", "success"),
    CaseState.RATED: ("已办结", "success"),
    CaseState.SUSPENDED: ("暂缓处理", "secondary"),
    CaseState.VOIDED: ("已撤销", "dark"),
    CaseState.MERGED: ("已与同一问题的其他反映合并处理", "info"),
}


def public_state(case: Case) -> tuple[str, str]:
    """The label and colour a resident sees: the wording above for a standard case, else the state's label in
    the case's procedure."""
    if case.procedure == procedures.DEFAULT_CODE and case.state in PUBLIC_STATE:
        return PUBLIC_STATE[case.state]
    proc = procedures.for_case(case)
    return proc.state_label(case.state), proc.state_color(case.state)


def result_states(case: Case) -> frozenset[str]:
    """States in which the handling result is published: the ``done`` group of the case's procedure, and for a
    standard case also 核查通过 (verified, about to be closed)."""
    proc = procedures.for_case(case)
    return proc.done | {CaseState.VERIFIED} if proc.code == procedures.DEFAULT_CODE else proc.done


def _steps(case: Case) -> list[dict]:
    """The four steps a resident understands, with the date each was reached (办结: the ``done`` group of the
    case's procedure; ended otherwise: its other ``terminal`` states)."""
    s = case.state
    proc = procedures.for_case(case)
    done = s in proc.done
    rejected = s in proc.terminal and not done
    steps = [
        {"label": "已提交", "at": case.created_at, "done": True},
        {"label": "已受理", "at": case.accepted_at, "done": bool(case.accepted_at)},
        {"label": "处理中", "at": case.dispatched_at, "done": bool(case.dispatched_at)},
        {
            "label": "已办结",
            "at": case.closed_at if done else None,
            "done": done,
        },
    ]
    if rejected:
        label = public_state(case)[0]
        reached = [st for st in steps if st["done"]]
        return [
            *reached,
            {"label": label, "at": case.closed_at or case.updated_at, "done": True, "end": True},
        ]
    current = next((i for i, st in enumerate(steps) if not st["done"]), None)
    if current is not None:
        steps[current]["current"] = True
    return steps


def _replies(case: Case, public_text) -> list[dict]:
    replies = []
    standard = case.procedure == procedures.DEFAULT_CODE
    if standard and case.state == CaseState.REJECTED:
        ev = case.events.filter(move="reject").order_by("-seq").first()
        reason = public_text((ev.data or {}).get("reason") or ev.note) if ev else ""
        replies.append(
            {
                "title": "不予受理说明",
                "text": reason or "经核实，该问题不属于受理范围。",
                "at": case.closed_at,
            }
        )
    if case.state in result_states(case) and case.handling_feedback:
        replies.append(
            {"title": "处理结果", "text": public_text(case.handling_feedback), "at": case.handled_at}
        )
    if standard and case.state == CaseState.MERGED:
        replies.append(
            {
                "title": "说明",
                "text": "已有其他居民反映同一问题，将合并处理，办理结果相同。",
                "at": case.closed_at,
            }
        )
        # the master's progress, posted on this case's timeline as it moves (智能分拨 合并)
        ev = case.events.filter(move="public_note", data__has_key="master").order_by("-seq").first()
        if ev is not None:
            replies.append({"title": "合并处理进度", "text": public_text(ev.note), "at": ev.at})
    return replies


@never_cache
@require_GET
def track(request, code: str):
    normalized = normalize_code(code)
    ip, device = client_ip(request), abuse.device_id(request)
    if normalized and normalized != code:
        return redirect("resident:track", code=normalized)
    case = None
    guessing = abuse.exceeded(abuse.IP_TRACK_MISSES, ip) or abuse.exceeded(abuse.DEVICE_TRACK_MISSES, device)
    if normalized and not guessing:
        case = (
            Case.objects.filter(source=Source.RESIDENT, source_ref=normalized)
            .select_related("category")
            .first()
        )
    if case is None:
        if guessing:
            error = "查询过于频繁，请十分钟后再试"
            status = 429
        else:
            abuse.hit(abuse.IP_TRACK_MISSES, ip)
            abuse.hit(abuse.DEVICE_TRACK_MISSES, device)
            error = "查询码：没有找到该查询码对应的反映，请核对后重新输入（共 10 位字母或数字）"
            status = 404
        return render(
            request,
            "intake/resident/lookup.html",
            {"error": error, "code": code, "street_name": _street_name()},
            status=status,
        )
    state_label, state_color = public_state(case)
    public_text = case_selectors.public_text()  # the free text shown here is scrubbed like Open311's
    kind = KIND_BY_CODE.get(case.category.code) if case.category_id else None
    own_photos, result_photos = public_photos(case)
    ctx = {
        "case": case,
        "code": format_code(normalized),
        "code_raw": normalized,
        "is_new": request.GET.get("new") == "1",
        "state_label": state_label,
        "state_color": state_color,
        "steps": _steps(case),
        "replies": _replies(case, public_text),
        "kind_label": kind.label if kind else (case.category.name if case.category_id else "其他问题"),
        "description": public_text(
            re.sub(r"^【居民所选类型：[^】]*】", "", case.description), names=[case.reporter_name]
        ),
        "own_photos": own_photos,
        "result_photos": result_photos,
        "photo_count": len(own_photos) + len(result_photos),
        "channel_label": channels.RESIDENT_LABEL,
        "masked_phone": case_selectors.mask_phone(case.reporter_phone),
        "has_point": case.lng is not None,
        "street_name": _street_name(),
    }
    response = render(request, "intake/resident/track.html", ctx)
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "no-referrer"
    return response


def public_photos(case: Case) -> tuple[list[Attachment], list[Attachment]]:
    """The photos the tracking page shows: the resident's own (sent with the report) and, once the result is
    published (核查通过 / 办结, as for 处理结果), the department's 处置后照片. Nothing else staff uploaded."""
    rows = list(
        Attachment.objects.filter(case=case)
        .filter(Q(event__move="create") | Q(kind=AttachmentKind.AFTER))
        .select_related("event")
        .order_by("created_at", "pk")
    )
    own = [a for a in rows if a.event_id and a.event.move == "create"]
    after = (
        [a for a in rows if a.kind == AttachmentKind.AFTER and a not in own]
        if case.state in result_states(case)
        else []
    )
    return own, after


@never_cache
@require_GET
def track_photo(request, code: str, pk: int, thumb: bool = False):
    """One photo of the tracking page (only those :func:`public_photos` shows), found through its tracking code."""
    normalized = normalize_code(code)
    ip = client_ip(request)
    case = None
    if normalized and not abuse.exceeded(abuse.IP_TRACK_MISSES, ip):
        case = Case.objects.filter(source=Source.RESIDENT, source_ref=normalized).first()
    if case is None:
        abuse.hit(abuse.IP_TRACK_MISSES, ip)
        raise Http404("照片不存在")
    own, after = public_photos(case)
    att = next((a for a in own + after if a.pk == pk), None)
    name = (att.thumbnail.name if thumb and att.thumbnail else att.file.name) if att else ""
    if not name or not default_storage.exists(name):
        raise Http404("照片不存在")
    content_type = "image/jpeg" if thumb and att.thumbnail else att.content_type
    response = FileResponse(default_storage.open(name, "rb"), content_type=content_type)
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "no-referrer"
    return response


def _street_name() -> str:
    street = _street()
    return street.name if street else ""


@never_cache
@require_GET
def track_lookup(request):
    raw = request.GET.get("code", "").strip()
    if raw:
        code = normalize_code(raw)
        if code:
            return redirect("resident:track", code=code)
        return render(
            request,
            "intake/resident/lookup.html",
            {
                "error": "查询码：格式不对，应为 10 位字母或数字（如 7K3QF-2M9XD）",
                "code": raw,
                "street_name": _street_name(),
            },
            status=422,
        )
    return render(request, "intake/resident/lookup.html", {"code": "", "street_name": _street_name()})


# --- public grid outlines -------------------------------------------------------------------------


@require_GET
def grids_outline(request):
    """Active grid outlines as GeoJSON, for the tap-to-locate map. Deliberately unscoped and public: it carries
    geometry and the grid kind only (no names, codes, communities or staff)."""
    from civicgrid.places.signals import current_revision

    revision = current_revision()
    key = f"cg:resident:outline:{revision}"
    body = cache.get(key)
    if body is None:
        street = _street()
        features = [
            {"type": "Feature", "geometry": geometry, "properties": {"kind": kind}}
            for geometry, kind in Grid.objects.filter(is_active=True)
            .order_by("code")
            .values_list("geometry", "kind")
        ]
        body = json.dumps(
            {
                "type": "FeatureCollection",
                "features": features,
                "center": [street.center_lng, street.center_lat] if street and street.center_lng else None,
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )
        cache.set(key, body, 600)
    response = HttpResponse(body, content_type="application/json")
    response["Cache-Control"] = "public, max-age=300"
    return response
