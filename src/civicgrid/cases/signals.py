"""Keep every app server's copy of the category catalogue fresh (see ``selectors.category``)."""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from civicgrid.cases import selectors
from civicgrid.cases.models import Category
from civicgrid.core import revisions


@receiver(post_save, sender=Category, dispatch_uid="cases.category_saved")
@receiver(post_delete, sender=Category, dispatch_uid="cases.category_deleted")
def _category_changed(sender, instance, **kwargs) -> None:
    revisions.bump(selectors.CATEGORY_REVISION)
