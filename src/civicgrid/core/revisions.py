"""Named revision counters for per-process caches of small, rarely-changing tables read on hot paths.

A cache made with :func:`cached` reads :func:`current` at most once per check interval and rebuilds when the
number moved. A writer calls :func:`bump` inside its transaction (usually from a ``post_save``/``post_delete``
receiver): that moves the number for every app server and drops this process's caches of that name at once.

Cached rows are kept as plain tuples (:func:`freeze`) and handed out as fresh model instances (:func:`thaw`), so
no two requests ever share (and mutate) one instance.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import TypeVar

from django.db import DEFAULT_DB_ALIAS, IntegrityError, models, transaction
from django.db.models import F, signals
from django.db.models.base import ModelState
from django.db.models.query_utils import DeferredAttribute

from civicgrid.core.revcache import RevisionCache

M = TypeVar("M", bound=models.Model)
T = TypeVar("T")

# name → the caches of this process built from data behind that counter
_caches: dict[str, list[RevisionCache]] = {}


def cached(name: str, load: Callable[[], T], *, check_interval: float = 1.0) -> RevisionCache[T]:
    """A per-process cache of ``load()``, rebuilt when counter ``name`` moved (checked at most once per
    ``check_interval`` seconds) and dropped at once when this process calls :func:`bump` for it."""
    cache: RevisionCache[T] = RevisionCache(
        load=load, read_revision=lambda: current(name), check_interval=check_interval
    )
    _caches.setdefault(name, []).append(cache)
    return cache


def current(name: str) -> int:
    """The counter as the database holds it now (0 before the first change)."""
    from civicgrid.core.models import CacheRevision

    value = CacheRevision.objects.filter(pk=name).values_list("revision", flat=True).first()
    return int(value or 0)


def bump(name: str) -> None:
    """Move the counter (creating its row on first use), in the caller's transaction, and drop this process's
    caches of that name (other servers see the new number within their check interval)."""
    from civicgrid.core.models import CacheRevision

    if not CacheRevision.objects.filter(pk=name).update(revision=F("revision") + 1):
        try:
            with transaction.atomic():
                CacheRevision.objects.create(pk=name, revision=1)
        except IntegrityError:  # another process created it meanwhile
            CacheRevision.objects.filter(pk=name).update(revision=F("revision") + 1)
    for cache in _caches.get(name, ()):
        cache.invalidate()


def _attnames(model: type[models.Model], fields: Iterable[str] | None) -> list[str]:
    """The concrete columns (attnames, in model order), all or the given subset (names or attnames)."""
    concrete = model._meta.concrete_fields
    if fields is None:
        names = _all_attnames.get(model)
        if names is None:
            names = _all_attnames[model] = [f.attname for f in concrete]
        return names
    wanted = set(fields)
    return [f.attname for f in concrete if f.attname in wanted or f.name in wanted]


_all_attnames: dict[type, list[str]] = {}  # read-only lists, shared by every caller


def freeze(obj: models.Model, fields: Iterable[str] | None = None) -> tuple:
    """The instance's concrete field values (all, or ``fields``) in model order: what :func:`thaw` takes back."""
    return tuple(getattr(obj, name) for name in _attnames(type(obj), fields))


def thaw(model: type[M], row: tuple, fields: Iterable[str] | None = None) -> M:
    """A fresh instance, as if just loaded from the database, from a :func:`freeze` tuple (with the same
    ``fields``; the others are deferred). JSON values are copied, so changing one in place never reaches the
    cache."""
    values = [copy.deepcopy(v) if isinstance(v, (dict, list)) else v for v in row]
    names = _attnames(model, fields)
    if len(values) == len(names) and _plain_instances(model):
        # what from_db() builds (the columns not given stay deferred: absent from the instance), without running
        # Model.__init__ over every field (a request thaws half a dozen)
        obj = model.__new__(model)
        obj.__dict__.update(zip(names, values, strict=True))
        state = obj._state = ModelState()
        state.adding, state.db = False, DEFAULT_DB_ALIAS
        return obj
    return model.from_db(DEFAULT_DB_ALIAS, names, values)


_plain_models: dict[type, bool] = {}


def _plain_instances(model: type[models.Model]) -> bool:
    """True when an instance of ``model`` is nothing but its ``__dict__`` of column values and a fresh state: no
    ``pre_init``/``post_init`` receivers, and no column attribute that a data descriptor stores in its own way
    (files, images): then setting the values directly gives what ``Model.__init__`` gives."""
    plain = _plain_models.get(model)
    if plain is None:
        descriptors_plain = all(
            not hasattr(type(getattr(model, f.attname, None)), "__set__")
            or isinstance(getattr(model, f.attname, None), DeferredAttribute)
            for f in model._meta.concrete_fields
        )
        plain = _plain_models[model] = descriptors_plain and not (
            signals.pre_init.has_listeners(model) or signals.post_init.has_listeners(model)
        )
    return plain
