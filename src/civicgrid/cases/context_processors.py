"""Badges in the menu: unread notifications (the bell) and the number of 待办."""

from __future__ import annotations

from civicgrid.core.roles import Capability, has_capability


def badges(request):
    user = getattr(request, "user", None)
    if not has_capability(user, Capability.BUSINESS_VIEW):
        return {}
    from civicgrid.cases import selectors

    # lazy: evaluated only where a template shows them (never for JSON/API responses)
    return {
        "unread_notifications": lambda: selectors.notifications(user=user, unread_only=True).count(),
        # active work only; closed cases awaiting the follow-up call are counted apart (回访)
        "inbox_count": lambda: selectors.inbox(user=user, tab="active").count(),
        "followup_count": lambda: selectors.inbox(user=user, tab="followup").count(),
    }
