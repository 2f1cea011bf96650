"""Every write of 工作总结: draft a report (a new version: the figures' snapshot and the rendered .docx), upload and
retire templates. Keyword-only, each takes ``actor``; the write and its audit row in one transaction."""

from __future__ import annotations

import hashlib
from datetime import date

from django.db import transaction
from django.db.models import Max

from civicgrid.core import audit, clock, zhnum
from civicgrid.core.errors import PermissionDenied, ValidationFailed
from civicgrid.metrics import services as metric_services
from civicgrid.places.models import District, Street
from civicgrid.reports import figures, render, selectors, template
from civicgrid.reports.models import Report, ReportTemplate, ReportVersion, Rounding

MAX_TEMPLATE_BYTES = 10 * 1024 * 1024
MAX_MANUAL_CHARS = 20_000
MAX_DAYS = 366 * 3


def _may_use(actor) -> None:
    if not selectors.can_use(actor):
        raise PermissionDenied("当前角色不能起草工作总结", code="forbidden")


def check_period(start: date | None, end: date | None) -> tuple[date, date]:
    if start is None:
        raise ValidationFailed("请填写统计起始日期", field="start")
    if end is None:
        raise ValidationFailed("请填写统计截止日期", field="end")
    if end < start:
        raise ValidationFailed("统计截止日期早于起始日期", field="end")
    if (end - start).days > MAX_DAYS:
        raise ValidationFailed("统计期不能超过三年", field="end")
    return start, end


def check_manual(manual: dict | None) -> dict:
    manual = manual or {}
    if not isinstance(manual, dict):
        raise ValidationFailed("人工填写内容格式有误", field="manual")
    out = {}
    for key, value in manual.items():
        if key not in render.MANUAL_FIELDS:
            raise ValidationFailed(f"未知的填写项：{key}", field=f"manual.{key}")
        if value is None:
            continue
        if not isinstance(value, str):
            raise ValidationFailed(f"{render.MANUAL_FIELDS[key]}应为文字", field=f"manual.{key}")
        if "\x00" in value:
            raise ValidationFailed(f"{render.MANUAL_FIELDS[key]}含有 NUL 空字符", field=f"manual.{key}")
        if len(value) > MAX_MANUAL_CHARS:
            raise ValidationFailed(
                f"{render.MANUAL_FIELDS[key]}过长（最多 {MAX_MANUAL_CHARS} 字）", field=f"manual.{key}"
            )
        out[key] = value.strip()
    return out


def template_bytes(tpl: ReportTemplate | None) -> bytes:
    return bytes(tpl.content) if tpl is not None else template.build_default()


def draft(
    *,
    actor,
    street: Street | None = None,
    district: District | None = None,
    start: date,
    end: date,
    rounding: str = Rounding.HALF_UP,
    tpl: ReportTemplate | None = None,
    manual: dict | None = None,
    report: Report | None = None,
    reader=None,
) -> ReportVersion:
    """A new version of ``report`` (or of a new report) of ``street`` — or of the whole 区 ``district`` (区-level
    accounts only; the built-in template or one of the 区's) —: the figures of [start, end] as ``reader`` (default ``actor``) sees
    them within that 街道 / 区, frozen in the version, and the document rendered from them."""
    reader = reader if reader is not None else actor
    _may_use(reader)
    if actor is not None and getattr(actor, "is_authenticated", False):
        _may_use(actor)
    if street is not None and district is not None:
        raise ValidationFailed("街道与全区只能选一个", field="district")
    if street is None and district is None:
        raise ValidationFailed("请选择街道或全区", field="street")
    start, end = check_period(start, end)
    if rounding not in Rounding.values:
        raise ValidationFailed(f"百分比取舍方式有误：{rounding}", field="rounding")
    manual = check_manual(manual)
    if street is not None:
        if not selectors.streets(user=reader).filter(pk=street.pk).exists():
            raise ValidationFailed("街道不存在或不在您的辖区", field="street")
        if tpl is not None and (tpl.street_id != street.pk or not tpl.is_active):
            raise ValidationFailed("模板不属于该街道或已停用", field="template")
    else:
        if not selectors.districts(user=reader).filter(pk=district.pk).exists() or (
            actor is not None
            and getattr(actor, "is_authenticated", False)
            and not selectors.districts(user=actor).filter(pk=district.pk).exists()
        ):
            raise ValidationFailed("只有区级账号可以起草本区的全区工作总结", field="district")
        if tpl is not None and (tpl.district_id != district.pk or not tpl.is_active):
            raise ValidationFailed("模板不属于该区的全区工作总结或已停用", field="template")
    # the rollup lags the cases by one round of its job: bring it up to date first (another runner holding the
    # job's lease is doing just that)
    metric_services.run_locked(metric_services.refresh)
    collected = figures.collect(
        user=selectors.reader_for(reader, street=street, district=district),
        street=street, district=district, start=start, end=end, rounding=rounding,
    )  # fmt: skip
    snapshot = collected.as_json()
    docx = render.render_docx(template_bytes(tpl), snapshot, manual)
    now = clock.now()
    person = actor if getattr(actor, "pk", None) else None
    with transaction.atomic():
        if report is None:
            report = Report.objects.create(
                street=street, district=district, start=start, end=end, rounding=rounding, template=tpl,
                manual=manual, created_by=person, created_at=now,
            )  # fmt: skip
        else:
            report = Report.objects.select_for_update().get(pk=report.pk)
            report.start, report.end, report.rounding, report.template, report.manual = (
                start, end, rounding, tpl, manual,
            )  # fmt: skip
            report.save(update_fields=["start", "end", "rounding", "template", "manual"])
        number = (report.versions.aggregate(n=Max("number"))["n"] or 0) + 1
        version = ReportVersion.objects.create(
            report=report, number=number, snapshot=snapshot, manual=manual, template=tpl, docx=docx,
            sha256=hashlib.sha256(docx).hexdigest(), created_by=person, created_at=now,
        )  # fmt: skip
        audit.record(
            actor=actor,
            action="reports.draft",
            obj=report,
            after={
                "version": number,
                "street" if street is not None else "district": (street or district).code,
                "start": start.isoformat(),
                "end": end.isoformat(),
                "template": tpl.name if tpl else "内置模板",
                "figures": len(snapshot["values"]),
                "sha256": version.sha256,
            },
        )
    return version


def rerender(version: ReportVersion) -> bytes:
    """The version's document rendered again from its snapshot (equal to the stored one, byte for byte)."""
    return render.render_docx(template_bytes(version.template), version.snapshot, version.manual)


def _sample_snapshot(place: Street | District) -> dict:
    today = clock.local_now().date()
    snap = figures.Collected(
        street=place.name, street_code=place.code, start=f"{today.year}-01-01", end=today.isoformat(),
        period=zhnum.period_label(date(today.year, 1, 1), today), year=today.year, rounding=Rounding.HALF_UP,
        scope="district" if isinstance(place, District) else "street",
    )  # fmt: skip
    return snap.as_json()


def upload_template(
    *,
    actor,
    street: Street | None = None,
    district: District | None = None,
    name: str,
    content: bytes,
    note: str = "",
) -> ReportTemplate:
    """A new template of ``street`` (or, for its whole-区 reports, of ``district``: 区-level accounts only),
    checked by rendering it once; an active one of the same name is retired."""
    _may_use(actor)
    if (street is None) == (district is None):
        raise ValidationFailed("请选择模板所属的街道或全区（只能选一个）", field="street")
    name = (name or "").strip()
    if not name:
        raise ValidationFailed("请填写模板名称", field="name")
    if len(name) > 100:
        raise ValidationFailed("模板名称最多 100 字", field="name")
    if not content:
        raise ValidationFailed("请选择模板文件（.docx）", field="file")
    if len(content) > MAX_TEMPLATE_BYTES:
        raise ValidationFailed("模板文件过大（最多 10 MB）", field="file")
    if street is not None and not selectors.streets(user=actor).filter(pk=street.pk).exists():
        raise ValidationFailed("街道不存在或不在您的辖区", field="street")
    if district is not None and not selectors.districts(user=actor).filter(pk=district.pk).exists():
        raise ValidationFailed("只有区级账号可以上传本区的全区工作总结模板", field="district")
    sample = _sample_snapshot(street or district)
    try:
        render.render_docx(content, sample, {})
    except render.RenderError as exc:
        raise ValidationFailed(exc.message, field="file") from None
    except Exception as exc:  # noqa: BLE001 - a broken upload is the user's input, never a 500
        raise ValidationFailed(
            f"模板无法生成文档：{type(exc).__name__}: {str(exc)[:200]}", field="file"
        ) from None
    now = clock.now()
    with transaction.atomic():
        old = list(
            ReportTemplate.objects.select_for_update()
            .filter(street=street, district=district, name=name, is_active=True)
            .order_by("pk")  # (the default ordering joins the nullable 街道: no FOR UPDATE on an outer join)
        )
        for t in old:
            t.is_active = False
            t.save(update_fields=["is_active"])
        tpl = ReportTemplate.objects.create(
            street=street, district=district, name=name, content=content, sha256=hashlib.sha256(content).hexdigest(),
            size=len(content), note=(note or "").strip()[:200], uploaded_by=actor, uploaded_at=now,
        )  # fmt: skip
        audit.record(
            actor=actor,
            action="reports.template.upload",
            obj=tpl,
            after={"name": name, "street" if street else "district": (street or district).code,
                   "sha256": tpl.sha256, "size": tpl.size,
                   "replaced": [t.pk for t in old]},
        )  # fmt: skip
    tpl.unknown_placeholders = unknown_placeholders(actor=actor, tpl=tpl)
    return tpl


def unknown_placeholders(*, actor, tpl: ReportTemplate) -> list[str]:
    """The placeholders of ``tpl`` that a draft of its 街道 (or 区) for this year so far would leave empty — a
    misspelt name, or a module without data yet (told to the uploader as a warning, not refused: a 信访 chapter
    may be written before the first 信访 is registered)."""
    today = clock.local_now().date()
    street, district = tpl.street, tpl.district
    collected = figures.collect(
        user=selectors.reader_for(actor, street=street, district=district),
        street=street, district=district, start=date(today.year, 1, 1), end=today,
    )  # fmt: skip
    return render.unknown_placeholders(bytes(tpl.content), collected.as_json())


def retire_template(*, actor, tpl: ReportTemplate) -> ReportTemplate:
    _may_use(actor)
    with transaction.atomic():
        tpl = ReportTemplate.objects.select_for_update().get(pk=tpl.pk)
        if tpl.is_active:
            tpl.is_active = False
            tpl.save(update_fields=["is_active"])
            audit.record(actor=actor, action="reports.template.retire", obj=tpl, after={"is_active": False})
    return tpl
