"""工作总结 API (/api/v1/reports): list the reports, draft one (a new report, or a new version of one), read a
report with its versions, and a version's figures (each with its value, text, formula, period and source).
The documents themselves download from the pages (/reports/versions/<id>.docx|.pdf|.xlsx). Scoped like the pages."""

from __future__ import annotations

from datetime import date

from django.urls import reverse
from ninja import Router, Schema, Status
from pydantic import Field

from civicgrid.core.errors import PermissionDenied, ValidationFailed
from civicgrid.core.validation import Id, Text
from civicgrid.reports import selectors, services
from civicgrid.reports.figures import ordered_values
from civicgrid.reports.models import Report, ReportVersion, Rounding

router = Router(tags=["工作总结"])


def _user(request):
    user = request.auth
    if not selectors.can_use(user):
        raise PermissionDenied("当前角色不能使用工作总结", code="forbidden")
    return user


class ReportManualIn(Schema):
    lead: Text | None = Field(None, max_length=20000, description="开篇导语")
    achievements: Text | None = Field(None, max_length=20000, description="其他工作成效（平台之外的数据）")
    problems: Text | None = Field(None, max_length=20000, description="存在问题（补充，每行一条）")
    plans: Text | None = Field(None, max_length=20000, description="下步计划")


class ReportDraftIn(Schema):
    street: Id | None = Field(None, description="街道 id（默认：辖区内第一个街道；与 district 二选一）")
    district: Id | None = Field(
        None, description="区 id：起草全区工作总结（各街道合计与各街道对比表；仅区级账号；模板须为本区的）"
    )
    start: date = Field(description="统计起始日期")
    end: date = Field(description="统计截止日期")
    rounding: str = Field(Rounding.HALF_UP, description="百分比取舍：half_up 四舍五入 / truncate 截尾")
    template: Id | None = Field(None, description="模板 id（默认：内置模板；须属于所起草的街道或区）")
    manual: ReportManualIn | None = None


class ReportRedraftIn(Schema):
    manual: ReportManualIn | None = Field(None, description="不给：沿用上一版的填写内容")


class ReportVersionOut(Schema):
    id: Id
    number: int
    created_at: str
    sha256: str
    docx_url: str
    pdf_url: str
    figures_url: str


class ReportOut(Schema):
    id: Id
    title: str
    street: str | None = Field(description="街道编码（全区报告为空）")
    district: str | None = Field(description="区的行政区划代码（街道报告为空）")
    start: date
    end: date
    rounding: str
    template: str
    versions: list[ReportVersionOut]


class ReportFigureOut(Schema):
    key: str
    label: str
    value: int | float | str | None
    text: str
    formula: str
    period: str
    source: str


def _version_out(report: Report, v: ReportVersion) -> dict:
    return {
        "id": v.pk,
        "number": v.number,
        "created_at": v.created_at.isoformat(),
        "sha256": v.sha256,
        "docx_url": reverse("reports:docx", args=[v.pk]),
        "pdf_url": reverse("reports:pdf", args=[v.pk]),
        "figures_url": reverse("reports:figures", args=[v.pk]),
    }


def _out(report: Report) -> dict:
    return {
        "id": report.pk,
        "title": report.title,
        "street": report.street.code if report.street_id else None,
        "district": report.district.code if report.district_id else None,
        "start": report.start,
        "end": report.end,
        "rounding": report.rounding,
        "template": report.template.name if report.template else "内置模板",
        "versions": [_version_out(report, v) for v in selectors.versions(report=report)],
    }


@router.get("", response=list[ReportOut], summary="工作总结列表")
def list_reports(request):
    user = _user(request)
    return [_out(r) for r in selectors.visible_reports(user=user)[:200]]


@router.post("", response={201: ReportOut}, summary="起草工作总结（新报告及其第1版）")
def draft(request, body: ReportDraftIn):
    user = _user(request)
    street = district = None
    if body.district is not None:
        if body.street is not None:
            raise ValidationFailed("street 与 district 只能给一个（街道报告或全区报告）", field="district")
        district = selectors.districts(user=user).filter(pk=body.district).first()
        if district is None:
            raise ValidationFailed("只有区级账号可以起草本区的全区工作总结", field="district")
    else:
        streets = selectors.streets(user=user)
        street = streets.filter(pk=body.street).first() if body.street else streets.first()
        if street is None:
            raise ValidationFailed("街道不存在或不在您的辖区", field="street")
    tpl = selectors.get_template(user=user, pk=body.template) if body.template else None
    version = services.draft(
        actor=user,
        street=street,
        district=district,
        start=body.start,
        end=body.end,
        rounding=body.rounding,
        tpl=tpl,
        manual=body.manual.dict(exclude_none=True) if body.manual else {},
    )
    return Status(201, _out(version.report))


@router.get("/{report_id}", response=ReportOut, summary="一份工作总结及其版本")
def get_report(request, report_id: Id):
    user = _user(request)
    return _out(selectors.get_report(user=user, pk=report_id))


@router.post("/{report_id}/versions", response={201: ReportOut}, summary="按最新数据重新生成（新版本）")
def redraft(request, report_id: Id, body: ReportRedraftIn):
    user = _user(request)
    report = selectors.get_report(user=user, pk=report_id)
    manual = body.manual.dict(exclude_none=True) if body.manual else report.manual
    services.draft(
        actor=user,
        street=report.street,
        district=report.district,
        start=report.start,
        end=report.end,
        rounding=report.rounding,
        tpl=report.template if report.template and report.template.is_active else None,
        manual=manual,
        report=report,
    )
    return Status(201, _out(report))


@router.get(
    "/versions/{version_id}/figures", response=list[ReportFigureOut], summary="某版本的全部数据及口径"
)
def figures(request, version_id: Id):
    user = _user(request)
    version = selectors.get_version(user=user, pk=version_id)
    return ordered_values(version.snapshot)
