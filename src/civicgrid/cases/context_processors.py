"""Badges in the menu: unread notifications (the bell) and the number of 待办."""

from __future__ import annotations

from civicgrid.accounts.roles import BUSINESS_ROLES


def badges(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or user.role not in BUSINESS_ROLES:
        return {}
    from civicgrid.cases import selectors

    # lazy: evaluated only where a template shows them (never for JSON/API responses)
    return {
        "unread_notifications": lambda: selectors.notifications(user=user, unread_only=True).count(),
        # active work only; closed cases awaiting the follow-up call are counted apart (回访)
        "inbox_count": lambda: selectors.inbox(user=user, tab="active").count(),
        "followup_count": lambda: selectors.inbox(user=user, tab="followup").count(),
    }
