"""Keep every app server's copy of the category catalogue fresh (see ``selectors.category``)."""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from civicgrid.accounts.models import Department
from civicgrid.cases import selectors
from civicgrid.cases.models import Category
from civicgrid.core import revisions


@receiver(post_save, sender=Category, dispatch_uid="cases.category_saved")
@receiver(post_delete, sender=Category, dispatch_uid="cases.category_deleted")
def _category_changed(sender, instance, **kwargs) -> None:
    revisions.bump(selectors.CATEGORY_REVISION)


@receiver(post_save, sender=Department, dispatch_uid="cases.department_saved")
def _department_saved(sender, instance, raw=False, **kwargs) -> None:
    """A department created (or re-activated) becomes the default department of the categories the seed meant
    for it, unless an administrator already chose one (so 派遣 pre-selects it)."""
    if raw or not instance.is_active:
        return
    from civicgrid.cases.categories import resolve_departments

    if resolve_departments():
        revisions.bump(selectors.CATEGORY_REVISION)
