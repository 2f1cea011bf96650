"""Named revision counters and the row snapshots that per-process caches keep (``civicgrid.core.revisions``)."""

from __future__ import annotations

import pytest

from civicgrid.cases.models import Category
from civicgrid.core import revisions
from civicgrid.core.models import CacheRevision
from civicgrid.places.models import Grid
from tests.factories import GridFactory

pytestmark = pytest.mark.django_db


def test_a_counter_starts_at_zero_and_moves_by_one_per_bump():
    assert revisions.current("test.things") == 0
    revisions.bump("test.things")
    revisions.bump("test.things")
    assert revisions.current("test.things") == 2
    assert CacheRevision.objects.get(pk="test.things").revision == 2
    assert revisions.current("test.other") == 0


def test_thaw_gives_an_equal_but_separate_instance_each_time():
    category = Category.objects.filter(level="minor").first()
    row = revisions.freeze(category)
    a, b = revisions.thaw(Category, row), revisions.thaw(Category, row)
    assert a is not b and a.pk == b.pk == category.pk
    assert {f.attname: getattr(a, f.attname) for f in Category._meta.concrete_fields} == {
        f.attname: getattr(category, f.attname) for f in Category._meta.concrete_fields
    }
    assert not a._state.adding  # as if loaded: saving it updates, never inserts a copy
    a.name = "改名"
    assert b.name == category.name


def test_a_subset_thaws_with_the_other_columns_deferred_and_json_copied():
    grid = GridFactory(col=0)
    grid.refresh_from_db()  # the geometry as JSON gives it back
    row = revisions.freeze(grid, ("id", "code", "geometry"))
    thawed = revisions.thaw(Grid, row, ("id", "code", "geometry"))
    assert thawed.code == grid.code and "name" in thawed.get_deferred_fields()
    thawed.geometry["type"] = "changed in place"
    assert revisions.thaw(Grid, row, ("id", "code", "geometry")).geometry == grid.geometry


def test_a_bump_in_this_process_drops_its_caches_of_that_name_at_once():
    loads = []
    cache = revisions.cached("test.cached", lambda: loads.append(1) or len(loads), check_interval=3600)
    other = revisions.cached("test.other_cache", lambda: "unchanged", check_interval=3600)
    assert cache.get() == 1 and cache.get() == 1 and other.get() == "unchanged"
    revisions.bump("test.cached")
    assert cache.get() == 2  # rebuilt without waiting for the check interval
    assert other.get() == "unchanged" and loads == [1, 1]
