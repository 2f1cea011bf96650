"""Staff intake: the 网格员 phone report (巡查上报) and the desk entry of 领导交办 / 舆情 / 信访.

- ``/field/``             网格员: photo + position + category + description → ``create_case(source=grid_patrol)``,
                          only inside the worker's own grids; 立案 at once when the category lets a grid worker file it
- ``/field/staff/``       指挥中心受理员 / 值班长: a case from a 领导交办单, a 舆情 item or a 信访件, with its reference number
- ``/field/done/<pk>/``   what was just filed

All rules of the case itself (who may report, 立案 conditions, numbering, attachments) are the case engine's
(:mod:`civicgrid.cases.services`); these views only collect input, check the position and report errors by field.
"""

from __future__ import annotations

import uuid

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_http_methods

from civicgrid.cases import selectors as case_selectors
from civicgrid.cases.models import Case, Category, Source
from civicgrid.cases.services import create_case
from civicgrid.core import geoindex
from civicgrid.core.errors import DomainError, NotFound
from civicgrid.core.roles import Capability, has_capability
from civicgrid.intake.photos import MAX_PHOTOS, clean_photos, gps_from_exif_bytes
from civicgrid.places import selectors as place_selectors
from civicgrid.places.models import Grid

DESK_SOURCES = [
    (Source.LEADER.value, "领导交办", "交办单号"),
    (Source.MEDIA.value, "媒体舆情", "舆情编号"),
    (Source.PETITION.value, "信访", "信访件编号"),
]
FIELD_LABELS = {
    "category": "问题分类",
    "description": "问题描述",
    "photos": "照片",
    "location": "位置",
    "source": "来源",
    "source_ref": "来源编号",
    "reporter_name": "反映人",
    "reporter_phone": "反映人电话",
    "address": "地址",
    "auto_accept": "直接立案",
}
FIELD_ALIASES = {"attachments": "photos", "lng": "location", "lat": "location", "grid": "location"}


class FormRejected(Exception):
    def __init__(self, errors: dict[str, str], status: int = 422):
        super().__init__("; ".join(errors.values()))
        self.errors = errors
        self.status = status


def _labelled(field: str, message: str) -> str:
    label = FIELD_LABELS.get(field)
    return message if not label or message.startswith(label) else f"{label}：{message}"


def _domain_errors(exc: DomainError) -> FormRejected:
    field = FIELD_ALIASES.get(exc.field or "", exc.field or "form")
    status = 403 if exc.status == 403 else 422
    message = exc.message
    if field == "location":  # the engine names 经纬度 / 网格; on this form both are the one 位置 field
        message = message.removeprefix("经纬度：").removeprefix("网格：")
    return FormRejected({field: _labelled(field, message)}, status=status)


def _form_errors(form: forms.Form) -> dict[str, str]:
    errors = {}
    for name, errs in form.errors.items():
        key = "location" if name in ("lng", "lat") else ("form" if name == "__all__" else name)
        message = "定位坐标无效，请重新定位或在地图上点选" if name in ("lng", "lat") else str(errs[0])
        errors.setdefault(key, _labelled(key, message))
    return errors


def category_groups(user, *, can_file_first: bool) -> list[dict]:
    """Enabled 小类 grouped by 大类 (from the engine's category tree); optionally a first group of the ones a grid
    worker may file (立案) on the spot."""
    tree = case_selectors.category_tree(user=user)
    groups = []
    if can_file_first:
        quick = [c for major in tree for c in major["children"] if c["grid_worker_can_file"]]
        if quick:
            groups.append({"label": "可直接立案", "options": quick})
    for major in tree:
        if major["children"]:
            groups.append({"label": major["name"], "options": major["children"]})
    return groups


def _category(value, *, required: bool) -> Category | None:
    if not value:
        if required:
            raise FormRejected({"category": "问题分类：请选择问题分类"})
        return None
    try:
        return Category.objects.get(pk=int(value), level="minor", is_enabled=True)
    except (Category.DoesNotExist, ValueError, TypeError):
        raise FormRejected({"category": "问题分类：所选分类不存在或已停用，请重新选择"})


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _done_url(case: Case) -> str:
    return reverse("field:done", args=[case.pk])


def _case_url(case: Case) -> str:
    try:
        return reverse("cases:detail", args=[case.pk])
    except NoReverseMatch:
        return ""


def _respond_ok(request, case: Case):
    url = _done_url(case)
    if _wants_json(request):
        return JsonResponse({"ok": True, "case": case.pk, "number": case.number, "redirect": url}, status=201)
    return redirect(url)


def _photos_and_gps(request, errors: dict) -> tuple[list, list[tuple[float, float]]]:
    photos, gps = [], []
    try:
        photos = clean_photos(request.FILES.getlist("photos"))
    except DomainError as exc:
        errors["photos"] = exc.message
    gps = [p.gps for p in photos if p.gps]
    blob = request.FILES.get("exif")
    if blob is not None and blob.size <= 256 * 1024:
        found = gps_from_exif_bytes(blob.read())
        if found:
            gps.append(found)
    return photos, gps


# --- 网格员巡查上报 ----------------------------------------------------------------------------------


class PatrolForm(forms.Form):
    category = forms.CharField(required=False)
    description = forms.CharField(
        min_length=4,
        max_length=2000,
        error_messages={
            "required": "问题描述：请描述现场问题",
            "min_length": "问题描述：请至少写 4 个字",
            "max_length": "问题描述：不能超过 2000 字",
        },
    )
    lng = forms.FloatField(required=False, min_value=-180, max_value=180)
    lat = forms.FloatField(required=False, min_value=-90, max_value=90)
    address = forms.CharField(required=False, max_length=200)
    idempotency_key = forms.CharField(required=False, max_length=64)


def own_grids(user):
    """The grid worker's grids with the 专属网格 inside them (the places scope)."""
    return place_selectors.visible_grids(user=user).filter(is_active=True)


def _own_grid_at(user, lng: float, lat: float) -> Grid | None:
    grid_id = geoindex.locate(lng, lat)
    if grid_id is None:
        return None
    return own_grids(user).filter(pk=grid_id).first()


def _outside_message(user) -> str:
    names = "、".join(own_grids(user).filter(kind="ordinary").values_list("name", flat=True)[:5])
    mine = f"（您负责：{names}）" if names else ""
    return f"位置：该位置不在您负责的网格内{mine}，不能上报；其他网格的问题请联系指挥中心"


def submit_patrol(request) -> Case:
    user = request.user
    form = PatrolForm(request.POST)
    errors = {} if form.is_valid() else _form_errors(form)
    data = form.cleaned_data
    category = None
    try:
        category = _category(request.POST.get("category"), required=True)
    except FormRejected as rej:
        errors.update(rej.errors)
    photos, exif_points = _photos_and_gps(request, errors)
    if not photos and "photos" not in errors:
        errors["photos"] = "照片：请至少拍一张现场照片"

    lng, lat = data.get("lng"), data.get("lat")
    grid = None
    if "location" not in errors:
        if (lng is None) != (lat is None):
            errors["location"] = "位置：定位信息不完整，请重新定位或在地图上点选"
        elif lng is not None:
            grid = _own_grid_at(user, lng, lat)
            if grid is None:
                errors["location"] = _outside_message(user)
        elif exif_points:
            for point in exif_points:
                grid = _own_grid_at(user, *point)
                if grid is not None:
                    lng, lat = point
                    break
            if grid is None:
                errors["location"] = _outside_message(user)
        else:
            errors["location"] = "位置：请点“使用我的位置”或在地图上点选问题位置"
    if errors:
        raise FormRejected(errors)
    try:
        return create_case(
            actor=user,
            source=Source.GRID_PATROL,
            description=data["description"].strip(),
            category=category,
            lng=lng,
            lat=lat,
            address=(data.get("address") or "").strip(),
            grid=grid,
            idempotency_key=data.get("idempotency_key") or None,
            attachments=[p.as_upload() for p in photos],
            auto_accept=bool(category and category.grid_worker_can_file),
        )
    except DomainError as exc:
        raise _domain_errors(exc)


@login_required
@require_http_methods(["GET", "POST"])
def patrol(request):
    """网格员 phone report."""
    if not has_capability(request.user, Capability.FIELD_PATROL):
        raise DjangoPermissionDenied("仅网格员可使用巡查上报")
    errors: dict = {}
    status = 200
    if request.method == "POST":
        try:
            case = submit_patrol(request)
        except FormRejected as rej:
            if _wants_json(request):
                return JsonResponse({"ok": False, "errors": rej.errors}, status=rej.status)
            errors, status = rej.errors, rej.status
        else:
            return _respond_ok(request, case)
    ctx = {
        "errors": errors,
        "data": request.POST if request.method == "POST" else {},
        "groups": category_groups(request.user, can_file_first=True),
        "grid_names": list(own_grids(request.user).filter(kind="ordinary").values_list("name", flat=True)),
        "idempotency_key": request.POST.get("idempotency_key") or uuid.uuid4().hex,
        "max_photos": MAX_PHOTOS,
    }
    return render(request, "intake/field/patrol.html", ctx, status=status)


# --- 领导交办 / 舆情 / 信访 登记 ----------------------------------------------------------------------


class DeskForm(forms.Form):
    source = forms.ChoiceField(
        choices=[(v, label) for v, label, _ in DESK_SOURCES],
        error_messages={
            "required": "来源：请选择来源",
            "invalid_choice": "来源：请选择领导交办、媒体舆情或信访",
        },
    )
    source_ref = forms.CharField(
        max_length=100,
        error_messages={
            "required": "来源编号：请填写交办单号 / 舆情编号 / 信访件编号",
            "max_length": "来源编号：不能超过 100 个字符",
        },
    )
    description = forms.CharField(
        min_length=4,
        max_length=5000,
        error_messages={
            "required": "问题描述：请填写问题描述",
            "min_length": "问题描述：请至少写 4 个字",
            "max_length": "问题描述：不能超过 5000 字",
        },
    )
    category = forms.CharField(required=False)
    address = forms.CharField(
        required=False, max_length=200, error_messages={"max_length": "地址：不能超过 200 个字符"}
    )
    lng = forms.FloatField(required=False, min_value=-180, max_value=180)
    lat = forms.FloatField(required=False, min_value=-90, max_value=90)
    reporter_name = forms.CharField(
        required=False, max_length=50, error_messages={"max_length": "反映人：不能超过 50 个字符"}
    )
    reporter_phone = forms.CharField(
        required=False, max_length=30, error_messages={"max_length": "反映人电话：不能超过 30 个字符"}
    )
    auto_accept = forms.BooleanField(required=False)
    idempotency_key = forms.CharField(required=False, max_length=64)

    def clean_source_ref(self):
        value = self.cleaned_data["source_ref"].strip()
        if not value:
            raise forms.ValidationError("来源编号：请填写交办单号 / 舆情编号 / 信访件编号")
        return value


def submit_desk(request) -> Case:
    form = DeskForm(request.POST)
    errors = {} if form.is_valid() else _form_errors(form)
    data = form.cleaned_data
    category = None
    try:
        category = _category(request.POST.get("category"), required=bool(data.get("auto_accept")))
    except FormRejected as rej:
        errors.update(rej.errors)
        if data.get("auto_accept") and not request.POST.get("category"):
            errors["category"] = "问题分类：勾选“直接立案”时须选择问题分类"
    source, ref = data.get("source"), data.get("source_ref")
    if source and ref and "source_ref" not in errors:
        existing = Case.objects.filter(source=source, source_ref=ref).first()
        key = data.get("idempotency_key") or None
        retry = existing is not None and existing.created_by_id == request.user.pk and key is not None
        if existing is not None and not (retry and existing.idempotency_key == key):
            # another 街道's case is not named (tiers: its number is not ours to see)
            seen = case_selectors.visible_cases(user=request.user).filter(pk=existing.pk).exists()
            which = f"（案件 {existing.display_number}）" if seen else "（其他街道）"
            errors["source_ref"] = f"来源编号：该编号已登记{which}，请勿重复登记"
    photos, _gps = _photos_and_gps(request, errors)
    lng, lat = data.get("lng"), data.get("lat")
    if "location" not in errors and (lng is None) != (lat is None):
        errors["location"] = "位置：定位信息不完整，请重新在地图上点选"
    if errors:
        raise FormRejected(errors)
    try:
        return create_case(
            actor=request.user,
            source=source,
            source_ref=ref,
            description=data["description"].strip(),
            category=category,
            lng=lng,
            lat=lat,
            address=(data.get("address") or "").strip(),
            reporter_name=(data.get("reporter_name") or "").strip(),
            reporter_phone=(data.get("reporter_phone") or "").strip(),
            idempotency_key=data.get("idempotency_key") or None,
            attachments=[p.as_upload() for p in photos],
            auto_accept=bool(data.get("auto_accept")),
        )
    except DomainError as exc:
        raise _domain_errors(exc)


@login_required
@require_http_methods(["GET", "POST"])
def desk(request):
    """领导交办 / 舆情 / 信访 登记 (指挥中心受理员、值班长)."""
    if not has_capability(request.user, Capability.DESK_INTAKE):
        raise DjangoPermissionDenied("仅指挥中心受理员、值班长可登记领导交办、舆情、信访件")
    errors: dict = {}
    status = 200
    if request.method == "POST":
        try:
            case = submit_desk(request)
        except FormRejected as rej:
            if _wants_json(request):
                return JsonResponse({"ok": False, "errors": rej.errors}, status=rej.status)
            errors, status = rej.errors, rej.status
        else:
            return _respond_ok(request, case)
    ctx = {
        "errors": errors,
        "data": request.POST if request.method == "POST" else {"source": request.GET.get("source", "")},
        "sources": DESK_SOURCES,
        "groups": category_groups(request.user, can_file_first=False),
        "idempotency_key": request.POST.get("idempotency_key") or uuid.uuid4().hex,
        "max_photos": MAX_PHOTOS,
    }
    return render(request, "intake/field/desk.html", ctx, status=status)


@login_required
def done(request, pk: int):
    try:
        case = case_selectors.get_case(user=request.user, pk=pk)
    except NotFound:
        raise Http404("案件不存在或无权查看")
    template = "intake/field/done.html"
    return render(
        request,
        template,
        {
            "case": case,
            "case_url": _case_url(case),
            "again_url": reverse(
                "field:patrol" if has_capability(request.user, Capability.FIELD_PATROL) else "field:desk"
            ),
        },
    )
