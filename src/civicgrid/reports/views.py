"""The 工作总结 screens: the list with the drafting form (街道 — or 全区 for a 区-level account —, period, template,
rounding, what staff type), a
report (its versions, every figure with its formula, downloads: .docx, PDF, the figures' Excel; 重新生成), and
the templates (download the built-in one, upload one's own). Thin: reads through selectors, writes through
services."""

from __future__ import annotations

from calendar import monthrange
from datetime import date
from functools import wraps
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import Http404, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from civicgrid.core import clock
from civicgrid.core.errors import DomainError, NotFound, ValidationFailed
from civicgrid.reports import render as report_render
from civicgrid.reports import selectors, services, template
from civicgrid.reports.figures import ordered_values
from civicgrid.reports.models import Rounding

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF = "application/pdf"


def reports_view(view):
    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not selectors.can_use(request.user):
            return HttpResponseForbidden("当前角色不能使用工作总结")
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.message)

    return wrapped


def _download(body: bytes, name: str, content_type: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return response


def period_choices(today: date) -> list[tuple[str, str, date, date]]:
    """(value, label, start, end) for the period picker: 全年 and 上半年 of this and last year, 1-N月 of this year."""
    out = []
    year = today.year
    for m in range(today.month - 1, 0, -1):
        label = "上半年" if m == 6 else f"1-{m}月" if m > 1 else "1月"
        out.append(
            (f"{year}-m{m}", f"{year}年{label}", date(year, 1, 1), date(year, m, monthrange(year, m)[1]))
        )
    out.append((f"{year - 1}-year", f"{year - 1}年全年", date(year - 1, 1, 1), date(year - 1, 12, 31)))
    out.append((f"{year - 1}-h1", f"{year - 1}年上半年", date(year - 1, 1, 1), date(year - 1, 6, 30)))
    return out


def _parse_day(text, field: str, label: str) -> date:
    try:
        return date.fromisoformat(str(text).strip())
    except (TypeError, ValueError):
        raise ValidationFailed(f"{label}不是日期（YYYY-MM-DD）：{str(text)[:20]}", field=field) from None


def _period_from(post, choices) -> tuple[date, date]:
    wanted = post.get("period", "")
    if wanted and wanted != "custom":
        for value, _label, start, end in choices:
            if value == wanted:
                return start, end
        raise ValidationFailed("统计期选项有误", field="period")
    return _parse_day(post.get("start"), "start", "统计起始日期"), _parse_day(
        post.get("end"), "end", "统计截止日期"
    )


def _street(request, value):
    streets = list(selectors.streets(user=request.user))
    if not streets:
        raise ValidationFailed("没有可起草的街道", field="street")
    if value in (None, ""):
        return streets[0]
    for s in streets:
        if str(s.pk) == str(value):
            return s
    raise ValidationFailed("街道不存在或不在您的辖区", field="street")


def _scope(request, value):
    """(street, district) from the form's 范围: "street" (the 街道 chosen below) or "district:<id>" (全区)."""
    value = (value or "street").strip()
    if value == "street":
        return _street(request, request.POST.get("street")), None
    prefix, _, pk = value.partition(":")
    if prefix == "district":
        for d in selectors.districts(user=request.user):
            if str(d.pk) == pk:
                return None, d
    raise ValidationFailed("只有区级账号可以起草本区的全区工作总结", field="district")


def _scope_choices(user) -> list[tuple[str, str]]:
    """The 范围 choice of a 区-level account: a 街道, or 全区 (each 区 it may draft for); none for a 街道 account."""
    if not selectors.district_level(user):
        return []
    return [("street", "街道（选择下方街道）")] + [
        (f"district:{d.pk}", f"全区：{d.name}") for d in selectors.districts(user=user)
    ]


def _template_choices(user, street) -> list[tuple[int, str]]:
    """The active templates of the form's 街道, then (区 level) those of the whole-区 reports."""
    out = [(t.pk, t.name) for t in selectors.active_templates(user=user, street=street)] if street else []
    for d in selectors.districts(user=user):
        out += [(t.pk, f"{t.name}（全区）") for t in selectors.active_templates(user=user, district=d)]
    return out


@require_http_methods(["GET", "POST"])
@reports_view
def index(request):
    today = clock.local_now().date()
    choices = period_choices(today)
    streets = list(selectors.streets(user=request.user))
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            street, district = _scope(request, request.POST.get("scope"))
            start, end = _period_from(request.POST, choices)
            tpl = None
            if request.POST.get("template"):
                tpl = selectors.get_template(user=request.user, pk=request.POST["template"])
            version = services.draft(
                actor=request.user,
                street=street,
                district=district,
                start=start,
                end=end,
                rounding=request.POST.get("rounding") or Rounding.HALF_UP,
                tpl=tpl,
                manual={k: request.POST.get(f"manual_{k}", "") for k in report_render.MANUAL_FIELDS},
            )
            messages.success(request, f"已起草《{version.report.title}》第{version.number}版")
            return redirect("reports:detail", pk=version.report.pk)
        except NotFound as exc:
            errors["template"] = exc.message
            messages.error(request, exc.message)
        except DomainError as exc:
            errors[exc.field or "form"] = exc.message
            messages.error(request, exc.message)
    street = streets[0] if streets else None
    return render(
        request,
        "reports/index.html",
        {
            "reports": selectors.visible_reports(user=request.user).annotate(version_count=Count("versions"))[
                :100
            ],
            "streets": streets,
            "scope_choices": _scope_choices(request.user),
            "templates": _template_choices(request.user, street),
            "choices": choices,
            "roundings": Rounding.choices,
            "manual_rows": [
                (k, label, request.POST.get(f"manual_{k}", "") if request.method == "POST" else "")
                for k, label in report_render.MANUAL_FIELDS.items()
            ],
            "errors": errors,
            "post": request.POST if request.method == "POST" else {},
        },
    )


@require_http_methods(["GET", "POST"])
@reports_view
def detail(request, pk: int):
    report = selectors.get_report(user=request.user, pk=pk)
    if request.method == "POST":
        try:
            version = services.draft(
                actor=request.user,
                street=report.street,
                district=report.district,
                start=report.start,
                end=report.end,
                rounding=report.rounding,
                tpl=report.template if report.template and report.template.is_active else None,
                manual={k: request.POST.get(f"manual_{k}", "") for k in report_render.MANUAL_FIELDS},
                report=report,
            )
            messages.success(request, f"已按最新数据重新生成第{version.number}版")
            return redirect("reports:detail", pk=report.pk)
        except DomainError as exc:
            messages.error(request, exc.message)
    versions = list(selectors.versions(report=report))
    latest = report.versions.order_by("-number").first()
    return render(
        request,
        "reports/detail.html",
        {
            "report": report,
            "versions": versions,
            "latest": latest,
            "values": ordered_values(latest.snapshot) if latest else [],
            "manual_fields": [
                (k, label, report.manual.get(k, "")) for k, label in report_render.MANUAL_FIELDS.items()
            ],
            "has_office": report_render.soffice() is not None,
        },
    )


def _version(request, pk):
    version = selectors.get_version(user=request.user, pk=pk)
    return version.report, version


@require_GET
@reports_view
def download_docx(request, pk: int):
    report, version = _version(request, pk)
    return _download(bytes(version.docx), f"{report.title}（第{version.number}版）.docx", DOCX)


@require_GET
@reports_view
def download_pdf(request, pk: int):
    report, version = _version(request, pk)
    try:
        pdf = report_render.docx_to_pdf(bytes(version.docx))
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("reports:detail", pk=report.pk)
    return _download(pdf, f"{report.title}（第{version.number}版）.pdf", PDF)


@require_GET
@reports_view
def download_figures(request, pk: int):
    report, version = _version(request, pk)
    return _download(
        report_render.appendix_xlsx(version.snapshot),
        f"{report.title}（第{version.number}版）数据来源.xlsx",
        XLSX,
    )


@require_GET
@reports_view
def default_template(request):
    return _download(template.build_default(), "工作总结内置模板.docx", DOCX)


@require_http_methods(["GET", "POST"])
@reports_view
def templates(request):
    streets = list(selectors.streets(user=request.user))
    if request.method == "POST":
        try:
            street, district = _scope(request, request.POST.get("scope"))
            upload = request.FILES.get("file")
            tpl = services.upload_template(
                actor=request.user,
                street=street,
                district=district,
                name=request.POST.get("name", ""),
                content=upload.read() if upload else b"",
                note=request.POST.get("note", ""),
            )
            messages.success(request, "模板已上传")
            if tpl.unknown_placeholders:
                shown = tpl.unknown_placeholders[:20]
                messages.warning(
                    request,
                    "以下占位符在今年至今的数据中没有对应的数字，起草时将为空："
                    + "、".join(shown)
                    + ("等" if len(tpl.unknown_placeholders) > len(shown) else "")
                    + "。若是拼写错误，请改正后重新上传（可用的占位符见“内置模板”与说明文档）。",
                )
            return redirect("reports:templates")
        except DomainError as exc:
            messages.error(request, exc.message)
    return render(
        request,
        "reports/templates.html",
        {
            "templates": selectors.visible_templates(user=request.user).defer("content"),
            "streets": streets,
            "scope_choices": _scope_choices(request.user),
        },
    )


@require_POST
@reports_view
def retire_template(request, pk: int):
    tpl = selectors.get_template(user=request.user, pk=pk)
    services.retire_template(actor=request.user, tpl=tpl)
    messages.success(request, f"已停用模板“{tpl.name}”")
    return redirect("reports:templates")
