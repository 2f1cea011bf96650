"""Writes for intake: upload → mapping → start, saved mappings, and placing an unmatched case on the map.

Every service takes ``actor``, checks the role (派遣员 / 值班长 / 系统管理员) and writes its audit row in the same
transaction. The import itself runs in the background (:mod:`civicgrid.intake.tasks`).
"""

from __future__ import annotations

from django.db import transaction

from civicgrid.cases.models import Case, CaseState
from civicgrid.core import audit, clock, importer
from civicgrid.core.errors import Conflict, DomainError, PermissionDenied, ValidationFailed
from civicgrid.intake import hotline, importing
from civicgrid.intake.models import (
    ImportJob,
    ImportMapping,
    ImportSource,
    JobStatus,
    PlacementStatus,
    PlacementTask,
)
from civicgrid.intake.selectors import can_import

MAX_UPLOAD_BYTES = importer.MAX_UPLOAD_BYTES
ALLOWED_SUFFIXES = importer.ALLOWED_SUFFIXES

# source → the core import spec its files go through (the 12345 import is core's importer's first client)
SPECS = {ImportSource.HOTLINE_12345: hotline.SPEC}


def spec_for(source: str) -> importer.ImportSpec:
    try:
        return SPECS[source]
    except KeyError:
        raise ValidationFailed(f"未知导入来源：{source}", field="source")


def fields_for(source: str):
    return spec_for(source).fields


def handler_for(job: ImportJob, *, actor=None):
    return spec_for(job.source).row_handler(job=job, actor=actor)


def _require_importer(actor) -> None:
    if not can_import(actor):
        raise PermissionDenied("只有派遣员、值班长和系统管理员可以导入工单")


imports_dir = importer.imports_dir
job_file = importer.job_file
open_job_table = importer.open_job_table


def create_job(*, actor, upload, source: str = ImportSource.HOTLINE_12345) -> ImportJob:
    """Store the uploaded file under DATA_DIR/imports, read its header row, suggest a mapping (status 待确认)."""
    _require_importer(actor)
    fields = fields_for(source)
    values = importer.store_upload(upload=upload, fields=fields)
    with transaction.atomic():
        job = ImportJob.objects.create(source=source, created_by=actor, **values)
        audit.record(
            actor=actor,
            action="intake.job.upload",
            obj=job,
            after=audit.snapshot(
                job, ["original_name", "file_format", "encoding", "file_size", "header_row"]
            ),
        )
    return job


def set_header_row(*, actor, job: ImportJob, header_row) -> ImportJob:
    """Use another row of the file as the header (the mapping step): re-read its column names and suggest the
    mapping afresh."""
    _require_importer(actor)
    _editable(job)
    try:
        header_row = int(header_row)
    except (TypeError, ValueError):
        raise ValidationFailed("请选择表头所在行", field="header_row")
    if header_row < 1:
        raise ValidationFailed("表头行号必须大于 0", field="header_row")
    reader = importing.open_table(
        job_file(job), file_format=job.file_format, encoding=job.encoding or None, header_row=header_row
    )
    try:
        headers = reader.headers
    finally:
        reader.close()
    if not any(headers):
        raise ValidationFailed(f"第 {header_row} 行是空行，不能作为表头", field="header_row")
    fields = fields_for(job.source)
    with transaction.atomic():
        before = {"header_row": job.header_row, "headers": job.headers}
        job.header_row = header_row
        job.headers = headers
        job.mapping = importing.suggest_mapping(headers, fields)
        job.save(update_fields=["header_row", "headers", "mapping"])
        audit.record(
            actor=actor,
            action="intake.job.header_row",
            obj=job,
            before=before,
            after={"header_row": header_row, "headers": headers},
        )
    return job


def _editable(job: ImportJob) -> None:
    if job.status != JobStatus.DRAFT:
        raise Conflict("该导入任务已开始，不能再修改")


def set_mapping(*, actor, job: ImportJob, mapping: dict[str, str]) -> ImportJob:
    _require_importer(actor)
    _editable(job)
    # raises ValidationFailed naming what is missing
    clean = importer.clean_mapping(mapping, job.headers, fields_for(job.source))
    with transaction.atomic():
        before = job.mapping
        job.mapping = clean
        job.save(update_fields=["mapping"])
        audit.record(
            actor=actor,
            action="intake.job.mapping",
            obj=job,
            before={"mapping": before},
            after={"mapping": clean},
        )
    return job


def save_mapping(*, actor, name: str, source: str, mapping: dict[str, str]) -> ImportMapping:
    """Create or replace the saved mapping ``name`` of ``source``."""
    _require_importer(actor)
    name = (name or "").strip()[:100]
    if not name:
        raise ValidationFailed("请填写方案名称", field="name")
    fields = fields_for(source)
    clean = {f.name: mapping[f.name] for f in fields if mapping.get(f.name)}
    with transaction.atomic():
        obj, created = ImportMapping.objects.select_for_update().get_or_create(
            source=source, name=name, defaults={"mapping": clean, "created_by": actor}
        )
        before = None if created else {"mapping": obj.mapping}
        if not created:
            obj.mapping = clean
            obj.updated_at = clock.now()
            obj.save(update_fields=["mapping", "updated_at"])
        audit.record(
            actor=actor,
            action=f"intake.mapping.{'create' if created else 'update'}",
            obj=obj,
            before=before,
            after={"mapping": clean},
        )
    return obj


def start_job(*, actor, job: ImportJob) -> ImportJob:
    """Queue the import; the background run starts when this transaction commits."""
    _require_importer(actor)
    _editable(job)
    importing.Binding.bind(job.mapping, job.headers, fields_for(job.source))
    from civicgrid.intake import tasks

    with transaction.atomic():
        if ImportJob.objects.filter(pk=job.pk, status=JobStatus.DRAFT).update(status=JobStatus.QUEUED) != 1:
            raise Conflict("该导入任务已开始")
        job.status = JobStatus.QUEUED
        audit.record(actor=actor, action="intake.job.start", obj=job, after={"mapping": job.mapping})
        transaction.on_commit(tasks.launch)
    return job


def rerun_job(*, actor, job: ImportJob) -> str:
    """「开始导入」 pressed again on a job that is no longer a draft: say what is going on, and resume a job whose
    worker died (or that failed) from its checkpoint. Returns the message for the user; raises
    :class:`Conflict` when there is nothing to do (with the reason)."""
    _require_importer(actor)
    from civicgrid.core import background
    from civicgrid.intake import tasks

    job.refresh_from_db()
    now = clock.now()
    if job.status == JobStatus.RUNNING and not job.is_stale:
        ago = int((now - job.heartbeat_at).total_seconds()) if job.heartbeat_at else 0
        raise Conflict(f"该导入正在进行中（{ago} 秒前仍在处理，已处理 {job.processed} 行），无需重复启动")
    if job.status == JobStatus.QUEUED:
        transaction.on_commit(tasks.launch)
        raise Conflict("该导入已在排队，稍后自动开始，无需重复启动")
    if job.status in (JobStatus.DONE, JobStatus.PARTIAL):
        raise Conflict("该导入已完成；如需再次导入请重新上传文件（同一工单编号只会更新，不会重复建案）")
    where = f"从第 {job.checkpoint_row + 1} 行继续" if job.checkpoint_row else "从头开始"
    with transaction.atomic():
        if job.status == JobStatus.RUNNING:  # stale: its worker died
            if job.pk not in background.requeue_stale(tasks.KIND):
                raise Conflict("该导入的状态刚刚发生变化，请刷新页面")
            message = f"导入进程已中断，已重新开始，{where}（已导入的行不会重复）"
        else:  # failed: the file or the database stopped the run; try again from the checkpoint
            changed = ImportJob.objects.filter(pk=job.pk, status=JobStatus.FAILED).update(
                status=JobStatus.QUEUED, finished_at=None, message=f"已由用户重新排队，{where}"
            )
            if changed != 1:
                raise Conflict("该导入的状态刚刚发生变化，请刷新页面")
            message = f"已重新排队，{where}（已导入的行不会重复）"
        audit.record(
            actor=actor, action="intake.job.rerun", obj=job, after={"from_row": job.checkpoint_row + 1}
        )
        transaction.on_commit(tasks.launch)
    return message


# --- placement ------------------------------------------------------------------------------------


def place_case(*, actor, task: PlacementTask, lng: float, lat: float) -> PlacementTask:
    """Set the location of a case the import could not place, from a click on the map.

    The case engine writes the location (:func:`civicgrid.cases.services.relocate_case`: optimistic version bump,
    one timeline entry); this closes the task and records the audit row, in one transaction.
    """
    from civicgrid.cases import services as case_services

    _require_importer(actor)
    from civicgrid.places.models import Grid
    from civicgrid.places.selectors import locate_grid_id

    try:
        lng, lat = float(lng), float(lat)
    except (TypeError, ValueError):
        raise ValidationFailed("请在地图上点选位置", field="lng")
    if not (-180 <= lng <= 180 and -90 <= lat <= 90):
        raise ValidationFailed("经纬度超出范围", field="lng")
    grid_id = locate_grid_id(lng, lat)
    if grid_id is None:
        raise ValidationFailed("该点不在任何网格内，请在本街道网格范围内点选", field="lng")
    grid = Grid.objects.get(pk=grid_id)
    now = clock.now()
    with transaction.atomic():
        locked = PlacementTask.objects.select_for_update().get(pk=task.pk)
        if locked.status != PlacementStatus.OPEN:
            raise Conflict("该工单已被他人定位")
        case = Case.objects.get(pk=locked.case_id)
        before = audit.snapshot(case, ["lng", "lat", "grid", "community"])
        case = case_services.relocate_case(
            actor=actor,
            case=case,
            grid=grid,
            lng=lng,
            lat=lat,
            note=f"导入工单人工定位：{grid.name}",
            data={"placement_task": locked.pk},
        )
        locked.status = PlacementStatus.PLACED
        locked.placed_at = now
        locked.placed_by = actor
        locked.save(update_fields=["status", "placed_at", "placed_by"])
        after = audit.snapshot(case, ["lng", "lat", "grid", "community"])
        audit.record(actor=actor, action="intake.placement.place", obj=case, before=before, after=after)
        if case.state == CaseState.REPORTED and case.source == "hotline_12345":
            try:
                with transaction.atomic():
                    _accept_placed(actor=actor, case=case, task=locked)
            except DomainError:  # e.g. a 系统管理员 may place but not 立案: the case waits in the 待办
                pass
    return locked


def _accept_placed(*, actor, case: Case, task: PlacementTask) -> None:
    """An open 12345 工单 waited unaccepted (no clock) until it was placed inside the 街道: 立案 it now, and
    dispatch it to the 承办单位 of the file with its 办理时限, through the case engine."""
    from civicgrid.cases import services as case_services

    case = case_services.perform(
        actor=actor, case=case, move="accept", version=case.version, note="导入工单定位后立案"
    )
    if task.department_id and task.department.is_active:
        limit = (
            (task.limit_amount, task.limit_unit) if task.limit_amount and task.limit_unit else (None, None)
        )
        case_services.perform(
            actor=actor,
            case=case,
            move="dispatch",
            version=case.version,
            department=task.department,
            amount=limit[0],
            unit=limit[1],
            note="12345 工单导入：定位后按承办单位派遣",
        )
