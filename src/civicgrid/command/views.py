"""指挥中心 screens: the leader view (/command/: period picker, filters, headline figures with 环比/同比, group
tables, charts; Excel of the tables, the monthly 简报 in Word) and the 大屏 (/command/screen/, its data at
screen/data.json, reloaded every N seconds). Thin: every figure comes from :mod:`civicgrid.command.selectors`.
A bad parameter is a 400 naming it."""

from __future__ import annotations

import io
from functools import wraps
from urllib.parse import quote, urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseForbidden, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from openpyxl import Workbook
from openpyxl.styles import Font

from civicgrid.cases.models import Source
from civicgrid.command import selectors
from civicgrid.core.errors import PermissionDenied
from civicgrid.core.xlsx import clean_text
from civicgrid.metrics.errors import BadQuery

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
GROUP_TABLES = [
    ("community", "分社区"),
    ("department", "分处置部门"),
    ("category", "分分类大类"),
    ("source", "分来源"),
]


def command_view(view):
    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            selectors.require_access(request.user)
        except PermissionDenied as exc:
            if request.path.endswith(".json"):
                return JsonResponse({"code": "forbidden", "message": exc.message}, status=403)
            return HttpResponseForbidden(exc.message)
        try:
            return view(request, *args, **kwargs)
        except BadQuery as exc:
            if request.path.endswith(".json"):
                return JsonResponse(
                    {"code": "invalid", "field": exc.field, "message": exc.message}, status=400
                )
            return render(
                request, "command/bad_query.html", {"field": exc.field, "message": exc.message}, status=400
            )

    return wrapped


def _download(data: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response


@require_GET
@command_view
def leader(request):
    user = request.user
    f = selectors.parse_filters(user=user, params=request.GET)
    head = selectors.headline(user=user, f=f)
    cards = selectors.headline_cards(user=user, f=f, head=head)
    tables = [(key, label, selectors.group_rows(user=user, f=f, by=key)) for key, label in GROUP_TABLES]
    trend = selectors.trend(user=user, f=f, start=f.start, end=f.end)
    categories = next(rows for key, _, rows in tables if key == "category")[:10]
    query = urlencode(f.query())
    return render(
        request,
        "command/leader.html",
        {
            "f": f,
            "periods": selectors.PERIODS,
            "cards": cards,
            "tables": tables,
            "lights": selectors.lights(user=user, f=f),
            "alerts": selectors.alerts(user=user, street=f.street, limit=selectors.LEADER_ALERT_LIMIT),
            "charts": {
                "trend": trend,
                "categories": {
                    "labels": [r["label"] for r in categories],
                    "values": [r["received"] for r in categories],
                    "urls": [r["received_url"] for r in categories],
                },
            },
            "streets": selectors.streets(user=user),
            "communities": selectors.place_selectors.visible_communities(user=user).order_by("code"),
            "departments": selectors.account_selectors.visible_departments(user=user).order_by("code"),
            "families": selectors.families(user=user),
            "sources": Source.choices,
            "months": range(1, 13),
            "quarters": range(1, 5),
            "quarter": (f.end.month - 1) // 3 + 1,
            "query": query,
            "previous": head["previous"],
            "last_year": head["last_year"],
        },
    )


@require_GET
@command_view
def leader_xlsx(request):
    """The leader view's figures and group tables (one sheet each) as Excel."""
    user = request.user
    f = selectors.parse_filters(user=user, params=request.GET)
    cards = selectors.headline_cards(user=user, f=f)
    wb = Workbook()
    ws = wb.active
    ws.title = "主要指标"
    ws.append(
        [f"统计期：{f.title}（{f.start.isoformat()} 至 {f.end.isoformat()}）", f"范围：{f.scope_label()}"]
    )
    ws.append(["指标", "本期", "单位", "环比", "同比", "口径"])
    for c in ws[2]:
        c.font = Font(bold=True)
    for c in cards:
        ws.append([c["label"], c["value"], c["unit"], c["mom"], c["yoy"], c["formula"]])
    ws.column_dimensions["A"].width = 16
    ws.column_dimensions["F"].width = 60
    cols = [
        ("received", "受理"),
        ("accepted", "立案"),
        ("done", "办结"),
        ("on_time_rate", "按期办结率%"),
        ("response_rate", "响应率%"),
        ("satisfaction_rate", "满意率%"),
        ("rework_rate", "返工率%"),
        ("proactive_rate", "主动发现率%"),
    ]
    for key, label in GROUP_TABLES:
        sheet = wb.create_sheet(label)
        sheet.append(["名称", *(t for _, t in cols)])
        for c in sheet[1]:
            c.font = Font(bold=True)
        for r in selectors.group_rows(user=user, f=f, by=key):
            sheet.append([clean_text(str(r["label"])), *(r[k] for k, _ in cols)])
        sheet.column_dimensions["A"].width = 24
    buf = io.BytesIO()
    wb.save(buf)
    return _download(buf.getvalue(), f"指挥中心统计_{f.start.isoformat()}_{f.end.isoformat()}.xlsx", XLSX)


@require_GET
@command_view
def brief_docx(request):
    """The one-page 简报 of the leader view's period and filters (default: this month)."""
    from civicgrid.command import brief  # docxtpl/python-docx load on the first 简报, not with the URLconf

    user = request.user
    f = selectors.parse_filters(user=user, params=request.GET)
    cards = selectors.headline_cards(user=user, f=f)
    departments = selectors.group_rows(user=user, f=f, by="department")
    ctx = brief.context(cards=cards, f=f, departments=departments, platform=_platform_name())
    return _download(brief.render(ctx), f"指挥中心简报_{f.title}.docx", brief.DOCX)


def _platform_name() -> str:
    return str(settings.CIVICGRID.get("PLATFORM_NAME", ""))


def _refresh_seconds(request) -> int:
    raw = request.GET.get("refresh")
    if raw in (None, ""):
        return int(settings.CIVICGRID.get("COMMAND_REFRESH_SECONDS", 60))
    try:
        n = int(raw)
    except ValueError:
        raise BadQuery(f"刷新间隔须为整数秒：“{raw}”", field="refresh")
    if not 10 <= n <= 3600:
        raise BadQuery("刷新间隔须在 10–3600 秒之间", field="refresh")
    return n


@require_GET
@command_view
def screen(request):
    street = (request.GET.get("street") or "").strip()
    selectors.metric_selectors.resolve_street(user=request.user, code=street)
    refresh = _refresh_seconds(request)
    data_url = "screen/data.json" + (f"?{urlencode({'street': street})}" if street else "")
    return render(
        request,
        "command/screen.html",
        {
            "refresh": refresh,
            "data_url": request.path + data_url[len("screen/") :],
            "streets": selectors.streets(user=request.user),
            "street": street,
        },
    )


@require_GET
@command_view
def screen_data(request):
    return JsonResponse(
        selectors.screen(user=request.user, street_code=request.GET.get("street")),
        json_dumps_params={"ensure_ascii": False},
    )
