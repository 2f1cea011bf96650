"""Row-level scoping, applied as a query filter (after NetBox's ``RestrictedQuerySet.restrict``).

Each app registers, per model, a function ``(queryset, user, action) -> queryset`` in its ``selectors.py``.
Selectors always call ``Model.objects.restrict(user, action)``; a model with no registered rule is visible to
nobody (fail closed). Views never filter ad hoc.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import models

ScopeRule = Callable[[models.QuerySet, object, str], models.QuerySet]
_rules: dict[type[models.Model], ScopeRule] = {}


def register(model: type[models.Model]) -> Callable[[ScopeRule], ScopeRule]:
    def deco(fn: ScopeRule) -> ScopeRule:
        _rules[model] = fn
        return fn

    return deco


def has_rule(model: type[models.Model]) -> bool:
    return model in _rules


class RestrictedQuerySet(models.QuerySet):
    def restrict(self, user, action: str = "view") -> models.QuerySet:
        if (
            user is None
            or not getattr(user, "is_authenticated", False)
            or not getattr(user, "is_active", False)
        ):
            return self.none()
        rule = _rules.get(self.model)
        if rule is None:
            return self.none()
        return rule(self, user, action)


RestrictedManager = models.Manager.from_queryset(RestrictedQuerySet)
