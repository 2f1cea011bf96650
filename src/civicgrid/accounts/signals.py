"""Audit trail for sign-in events (writes made by services audit themselves), and the token cache's refresh."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from civicgrid.accounts.models import ApiToken, User
from civicgrid.core import audit, revisions


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


@receiver(post_save, sender=User, dispatch_uid="accounts.user_saved")
@receiver(post_delete, sender=User, dispatch_uid="accounts.user_deleted")
@receiver(post_save, sender=ApiToken, dispatch_uid="accounts.token_saved")
@receiver(post_delete, sender=ApiToken, dispatch_uid="accounts.token_deleted")
def _auth_changed(sender, instance, **kwargs) -> None:
    """A user or token changed: every app server drops its token entries (see ``authenticate_token``)."""
    from civicgrid.accounts.services import AUTH_REVISION

    revisions.bump(AUTH_REVISION)
