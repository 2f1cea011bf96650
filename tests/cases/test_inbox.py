"""The dispatcher's 待办: urgent work first; old closed cases drop out after the follow-up window."""

from __future__ import annotations

from datetime import timedelta

import pytest

from civicgrid.cases import selectors
from civicgrid.cases.models import Case, CaseState
from civicgrid.core import clock

pytestmark = pytest.mark.django_db


def test_new_reports_come_before_follow_up_calls(world):
    closed = world.to_state("closed")
    verified = world.to_state("verified")
    accepted = world.to_state("accepted")
    reported = world.to_state("reported")
    order = [c.pk for c in selectors.inbox(user=world.dispatcher)]
    positions = {
        name: order.index(c.pk)
        for name, c in {
            "reported": reported,
            "accepted": accepted,
            "verified": verified,
            "closed": closed,
        }.items()
    }
    assert positions["reported"] < positions["accepted"] < positions["verified"] < positions["closed"]


def test_closed_case_leaves_the_inbox_after_the_rating_window(world, settings):
    settings.CIVICGRID = {**settings.CIVICGRID, "RATING_WINDOW_DAYS": 15}
    recent = world.to_state("closed")
    old = world.to_state("closed")
    Case.objects.filter(pk=old.pk).update(closed_at=clock.now() - timedelta(days=16))
    ids = set(selectors.inbox(user=world.dispatcher).values_list("pk", flat=True))
    assert recent.pk in ids and old.pk not in ids
    # still rateable from the case itself: only the 待办 list forgets it
    old.refresh_from_db()
    assert old.state == CaseState.CLOSED
