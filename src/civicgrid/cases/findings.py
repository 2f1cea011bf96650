"""One tap from a finding to a closed loop: what a 网格员 found on a visit or at a patrol point becomes either an
ordinary case (source 网格员巡查) or a case of another procedure (安全隐患) — without the app that found it
importing the app that owns the procedure.

The apps that record findings (registers: 入户走访, gridwork: 点位打卡) sit in the same layer as hazards and may not
import it (pyproject importlinter ``layers``). So the owner registers a *filer* here, one layer down, in its
``AppConfig.ready``::

    findings.register(findings.Filer(code="hazard", label="安全隐患", file=_file_hazard))

and the finder calls :func:`file_finding` with the code the user chose. ``case`` (an ordinary case) is built in.
A filer runs inside the caller's transaction: the finding and the record it came from commit together or not at
all. Idempotency is the caller's: it files once per record (the visit's / check-in's phone id).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from civicgrid.cases.errors import CaseErrorCode
from civicgrid.cases.models import Case, Source
from civicgrid.core.errors import ValidationFailed


@dataclass(frozen=True)
class Place:
    """Where the finding is: the grid / 街道 of the visited object or point, and what was visited."""

    street_id: int
    grid: object = None
    lng: float | None = None
    lat: float | None = None
    address: str = ""
    name: str = ""
    unit: object = None
    building: object = None


@dataclass(frozen=True)
class Filer:
    code: str
    label: str
    # file(actor=, place=, description=, category=, idempotency_key=, photos=) -> Case
    file: Callable[..., Case]


_FILERS: dict[str, Filer] = {}


def register(filer: Filer) -> Filer:
    _FILERS[filer.code] = filer
    return filer


def choices() -> list[tuple[str, str]]:
    """The targets a finding may go to, ordinary case first (for the forms' 上报为 switch)."""
    return [(f.code, f.label) for f in _FILERS.values()]


def _file_case(*, actor, place: Place, description: str, category=None, idempotency_key=None, photos=()):
    from civicgrid.cases import services

    return services.create_case(
        actor=actor,
        source=Source.GRID_PATROL,
        description=description,
        category=category,
        grid=place.grid,
        lng=place.lng,
        lat=place.lat,
        address=place.address or place.name,
        idempotency_key=idempotency_key,
        attachments=list(photos or ()),
        auto_accept=bool(category and category.grid_worker_can_file),
    )


CASE = register(Filer(code="case", label="工单", file=_file_case))


def file_finding(
    *,
    actor,
    target: str,
    place: Place,
    description: str,
    category=None,
    idempotency_key: str | None = None,
    photos=(),
) -> Case:
    """File ``description`` as ``target`` (``case`` / ``hazard`` / …); an unknown target is a 422 on field
    ``report_as``."""
    filer = _FILERS.get(target or "case")
    if filer is None:
        raise ValidationFailed(f"不能上报为「{target}」", field="report_as", code=CaseErrorCode.INVALID_INPUT)
    return filer.file(
        actor=actor,
        place=place,
        description=description,
        category=category,
        idempotency_key=idempotency_key,
        photos=photos,
    )
