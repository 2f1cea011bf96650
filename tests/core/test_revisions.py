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


def test_a_thawed_row_is_what_loading_it_gives():
    """The quick thaw (values set straight into the instance) gives what ``from_db`` gives: the same columns, a
    loaded state, related rows read on first use and nothing cached from another instance; it saves as an
    update."""
    from civicgrid.accounts.models import User
    from tests.factories import UserFactory

    user = UserFactory(full_name="张三")
    loaded = User.objects.get(pk=user.pk)
    row = revisions.freeze(loaded)
    thawed = revisions.thaw(User, row)
    assert revisions._plain_instances(User)
    names = [f.attname for f in User._meta.concrete_fields]
    assert [getattr(thawed, n) for n in names] == [getattr(loaded, n) for n in names]
    assert vars(thawed).keys() - {"_state"} == vars(User.from_db("default", names, list(row))).keys() - {
        "_state"
    }
    assert not thawed._state.adding and thawed._state.db == "default" and not thawed._state.fields_cache
    assert thawed.street == loaded.street  # a foreign key still loads on first use
    thawed.full_name = "李四"
    thawed.save(update_fields=["full_name"])
    assert User.objects.get(pk=user.pk).full_name == "李四" and User.objects.count() == 1


def test_a_model_with_init_receivers_thaws_through_its_init(monkeypatch):
    from django.db.models.signals import post_init

    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance)

    post_init.connect(receiver, sender=Category)
    monkeypatch.setattr(revisions, "_plain_models", {})
    try:
        category = Category.objects.filter(level="minor").first()
        seen.clear()
        thawed = revisions.thaw(Category, revisions.freeze(category))
        assert seen == [thawed] and thawed.pk == category.pk
    finally:
        post_init.disconnect(receiver, sender=Category)


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
