"""django-ninja names an OpenAPI component after its Schema class: two apps with a ``CaseOut`` (or ``FiguresOut``)
share one component, and the document then describes one app's responses with the other's fields (schemathesis
finds it as "response violates schema"). Every Schema class name is unique across the API."""

from __future__ import annotations

from collections import defaultdict

from ninja import Schema


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_every_schema_class_of_the_api_has_its_own_name():
    import civicgrid.urls  # noqa: F401  (imports every app's router)

    where: dict[str, set[str]] = defaultdict(set)
    for cls in _subclasses(Schema):
        if cls.__module__.startswith("civicgrid."):
            where[cls.__name__].add(cls.__module__)
    clashes = {name: sorted(mods) for name, mods in where.items() if len(mods) > 1}
    assert not clashes, f"Schema class names used by more than one module: {clashes}"
