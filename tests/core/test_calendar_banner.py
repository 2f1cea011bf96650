"""The 'enter the State Council notice' banner for system admins, and the calendar admin pages."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from django.test import RequestFactory

from civicgrid.core import clock
from civicgrid.core import workcalendar as wc
from civicgrid.core.context_processors import calendar_banner
from civicgrid.core.models import AuditLog, CalendarOverride, CalendarYear

pytestmark = pytest.mark.django_db

PROCESSOR = "civicgrid.core.context_processors.calendar_banner"


def at(s: str) -> datetime:
    return datetime.fromisoformat(s + "T10:00:00+08:00")


def ctx_for(user):
    request = RequestFactory().get("/")
    request.user = user
    return calendar_banner(request)


@pytest.fixture
def with_processor(settings):
    templates = [dict(t) for t in settings.TEMPLATES]
    options = dict(templates[0]["OPTIONS"])
    options["context_processors"] = [*options["context_processors"], PROCESSOR]
    templates[0]["OPTIONS"] = options
    settings.TEMPLATES = templates


@pytest.mark.parametrize(
    "today, years",
    [
        ("2026-06-01", None),  # 2026 covered, 2027 not asked for yet
        ("2026-10-01", [2027]),
        ("2026-11-22", [2027]),
        ("2027-02-01", [2027]),
    ],
)
def test_context_processor_for_system_admin(sysadmin, today, years):
    with clock.frozen(at(today)):
        ctx = ctx_for(sysadmin)
    assert ctx.get("calendar_missing_years") == years


@pytest.mark.parametrize("role", ["dispatcher", "audit_admin", "leader", "grid_worker"])
def test_context_processor_ignores_other_roles(make_user, role):
    with clock.frozen(at("2026-11-22")):
        assert ctx_for(make_user(role)) == {}


def test_context_processor_anonymous():
    from django.contrib.auth.models import AnonymousUser

    with clock.frozen(at("2026-11-22")):
        assert ctx_for(AnonymousUser()) == {}


def test_banner_on_the_home_page_for_system_admin_until_the_year_is_confirmed(
    client, sysadmin, with_processor
):
    client.force_login(sysadmin)
    with clock.frozen(at("2026-11-22")):
        html = client.get("/").content.decode()
        assert 'data-testid="calendar-banner"' in html
        assert "2027 年节假日安排尚未录入" in html
        assert "国务院办公厅关于2027年部分节假日安排的通知" in html
        assert "/admin/core/calendaryear/" in html

        wc.set_override(actor=sysadmin, date=date(2027, 1, 1), is_workday=False, name="元旦")
        assert "calendar-banner" in client.get("/").content.decode()  # entered but not confirmed
        wc.confirm_year(actor=sysadmin, year=2027, notice="国务院办公厅关于2027年部分节假日安排的通知")
        assert "calendar-banner" not in client.get("/").content.decode()


def test_no_banner_before_october(client, sysadmin, with_processor):
    client.force_login(sysadmin)
    with clock.frozen(at("2026-09-30")):
        html = client.get("/").content.decode()
    assert "calendar-banner" not in html


def test_no_banner_for_a_dispatcher(client, make_user, with_processor):
    client.force_login(make_user("dispatcher"))
    with clock.frozen(at("2026-11-22")):
        response = client.get("/")
    assert response.status_code == 200
    assert "calendar-banner" not in response.content.decode()


def test_banner_lists_current_and_next_year(client, sysadmin, with_processor):
    client.force_login(sysadmin)
    with clock.frozen(at("2027-10-08")):
        html = client.get("/").content.decode()
    assert "2027 年节假日安排尚未录入" in html and "2028 年节假日安排尚未录入" in html


# --- admin --------------------------------------------------------------------------------------------------


def test_system_admin_enters_a_year_through_the_admin(client, staff_sysadmin):
    client.force_login(staff_sysadmin)
    assert client.get("/admin/core/calendaroverride/").status_code == 200
    assert client.get("/admin/core/calendaryear/").status_code == 200
    assert not wc.is_workday(date(2027, 1, 2))
    response = client.post(
        "/admin/core/calendaroverride/add/",
        {"date": "2027-01-02", "is_workday": "on", "name": "调休上班", "note": ""},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert wc.day_info(date(2027, 1, 2)).kind == "adjusted_workday"  # cache dropped by the signal
    response = client.post(
        "/admin/core/calendaryear/add/",
        {"year": "2027", "confirmed": "on", "notice": "国务院办公厅关于2027年部分节假日安排的通知"},
    )
    assert response.status_code == 302
    assert wc.is_year_covered(2027)
    actions = set(
        AuditLog.objects.filter(object_type__in=["core.calendaroverride", "core.calendaryear"]).values_list(
            "action", flat=True
        )
    )
    assert actions == {"admin.create"}
    year = CalendarYear.objects.get(year=2027)
    response = client.post(f"/admin/core/calendaryear/{year.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not wc.is_year_covered(2027)
    assert AuditLog.objects.filter(action="admin.delete", object_type="core.calendaryear").count() == 1


def test_changelist_shows_builtin_data_and_counts(client, staff_sysadmin):
    CalendarYear.objects.create(year=2027, confirmed=False)
    CalendarOverride.objects.create(date=date(2027, 1, 1), is_workday=False, name="元旦")
    client.force_login(staff_sysadmin)
    html = client.get("/admin/core/calendaryear/").content.decode()
    assert "内置数据" in html and "已录入调整天数" in html
    html = client.get("/admin/core/calendaroverride/").content.decode()
    assert "周五" in html


@pytest.mark.parametrize("role", ["dispatcher", "audit_admin"])
def test_other_roles_cannot_use_the_calendar_admin(client, make_user, role):
    user = make_user(role)
    user.is_staff = True
    user.save()
    client.force_login(user)
    for url in ("/admin/core/calendaroverride/", "/admin/core/calendaryear/add/"):
        assert client.get(url).status_code in {302, 403}
    response = client.post("/admin/core/calendaroverride/add/", {"date": "2027-01-02", "is_workday": "on"})
    assert response.status_code in {302, 403}
    assert not CalendarOverride.objects.exists()
