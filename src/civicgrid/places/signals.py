"""Keep the in-memory places indexes fresh: every community, grid, building and unit change bumps the places
revision (the ``"places"`` counter of :mod:`civicgrid.core.revisions`).

Every app server reads the revision (at most once a second, :mod:`civicgrid.core.geoindex` for point → grid,
:mod:`civicgrid.places.addressindex` for address → grid) and rebuilds its in-memory indexes when it moved; the
process that made the change also drops its own indexes at once.
Bulk writers (the importer) wrap their work in :func:`batched` so that one import bumps the revision once;
code that writes without signals (``bulk_create``, ``QuerySet.update``/``delete``, e.g. the demo builder) must
call :func:`bump_revision` once when it is done.
"""

from __future__ import annotations

import contextlib
import contextvars

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from civicgrid.core import geoindex, revisions
from civicgrid.places import addressindex
from civicgrid.places.models import PLACES_REVISION, Building, Community, Grid, Street, Unit

_batching: contextvars.ContextVar[bool] = contextvars.ContextVar("civicgrid_places_batching", default=False)


def current_revision() -> int:
    """The places revision as the database holds it now (0 before the first change)."""
    return revisions.current(PLACES_REVISION)


def bump_revision() -> None:
    """Move the places counter and drop this process's places caches (indexes and grid cards)."""
    revisions.bump(PLACES_REVISION)
    geoindex.invalidate()
    addressindex.invalidate()


@contextlib.contextmanager
def batched():
    """Suppress the per-save bumps inside the block and bump once at its (successful) end."""
    token = _batching.set(True)
    try:
        yield
    finally:
        _batching.reset(token)
    bump_revision()


@receiver(post_save, sender=Community, dispatch_uid="places.community_saved")
@receiver(post_delete, sender=Community, dispatch_uid="places.community_deleted")
@receiver(post_save, sender=Grid, dispatch_uid="places.grid_saved")
@receiver(post_delete, sender=Grid, dispatch_uid="places.grid_deleted")
@receiver(post_save, sender=Building, dispatch_uid="places.building_saved")
@receiver(post_delete, sender=Building, dispatch_uid="places.building_deleted")
@receiver(post_save, sender=Unit, dispatch_uid="places.unit_saved")
@receiver(post_delete, sender=Unit, dispatch_uid="places.unit_deleted")
def _places_changed(sender, instance, **kwargs) -> None:
    if _batching.get():
        return
    bump_revision()


@receiver(post_save, sender=Street, dispatch_uid="places.street_saved")
@receiver(post_delete, sender=Street, dispatch_uid="places.street_deleted")
def _street_changed(sender, instance, **kwargs) -> None:
    """A 街道 renamed, added or removed: the per-process street cards (:func:`selectors.street_card`) rebuild."""
    from civicgrid.places.selectors import STREETS_REVISION

    revisions.bump(STREETS_REVISION)
