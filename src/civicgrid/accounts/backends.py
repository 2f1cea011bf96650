"""Sign-in: Django's model backend, refusing system actors (the accounts of channels without a person)."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend


class CivicModelBackend(ModelBackend):
    def user_can_authenticate(self, user) -> bool:
        return super().user_can_authenticate(user) and not getattr(user, "is_system", False)
