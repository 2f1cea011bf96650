"""Audit trail for sign-in events (writes made by services audit themselves)."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import transaction
from django.dispatch import receiver

from civicgrid.core import audit


@receiver(user_logged_in)
def _on_login(sender, request, user, **kwargs):
    with transaction.atomic():
        audit.record(actor=user, action="auth.login", obj=user)


@receiver(user_logged_out)
def _on_logout(sender, request, user, **kwargs):
    if user is not None:
        with transaction.atomic():
            audit.record(actor=user, action="auth.logout", obj=user)


@receiver(user_login_failed)
def _on_login_failed(sender, credentials, request=None, **kwargs):
    username = (credentials or {}).get("username", "")
    with transaction.atomic():
        audit.record(
            actor=None,
            action="auth.login_failed",
            object_type="accounts.user",
            object_repr=str(username)[:200],
            note="登录失败",
        )
