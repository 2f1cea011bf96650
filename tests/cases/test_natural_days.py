"""A 处置 stage counted in 自然日 (legal periods: 信访工作条例, 行政处罚法) through real cases: the category admin
sets it, 派遣 may give it, 挂账 and 延期 move the due moment, the case page shows "末日 24:00"; plus the one
DeadlineUnit / Light enum the calendar, the engine, forms and the API share."""

from __future__ import annotations

import importlib
from datetime import datetime, timedelta

import pytest
from django.apps import apps as django_apps

from civicgrid.accounts.roles import Role
from civicgrid.cases import models as case_models
from civicgrid.cases.forms import ExtensionForm
from civicgrid.cases.jobs import refresh_lights
from civicgrid.cases.models import Case, Category, DeadlineUnit, Light, Notification
from civicgrid.core import choices, clock
from civicgrid.core import workcalendar as wc
from civicgrid.core.errors import ValidationFailed
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

H = timedelta(hours=1)


def at(*args) -> datetime:
    return clock.aware(datetime(*args))


def _natural_days_world(world, amount=3):
    world.category.handle_limit_amount = amount
    world.category.handle_limit_unit = DeadlineUnit.NATURAL_DAYS
    world.category.save()
    return world


def test_one_unit_enum_and_one_light_enum_everywhere():
    assert case_models.DeadlineUnit is wc.DeadlineUnit is choices.DeadlineUnit
    assert case_models.Light is wc.Light is choices.Light
    assert not hasattr(case_models, "LimitUnit")
    assert [u.label for u in DeadlineUnit] == ["自然时", "工作时", "工作日", "自然日"]
    assert [(x.value, x.label) for x in Light] == [("green", "正常"), ("yellow", "预警"), ("red", "超时")]
    for field in ("dispatch_limit_unit", "handle_limit_unit", "verify_limit_unit"):
        assert Category._meta.get_field(field).choices == DeadlineUnit.choices
    assert Case._meta.get_field("limit_unit").choices == DeadlineUnit.choices
    assert Case._meta.get_field("light").choices == Light.choices
    assert wc.light(1, 100) is Light.GREEN


def test_handle_stage_in_natural_days_with_a_pause_and_an_extension(world):
    _natural_days_world(world)
    with clock.frozen(at(2026, 9, 24, 10, 0)):  # Thursday
        c = world.to_state("handling")
    assert (c.limit_amount, c.limit_unit) == (3, "natural_days")
    # Thu 09-24 + 3 → Sun 09-27 (中秋 weekend) → Mon 09-28 24:00
    assert c.due_at == at(2026, 9, 29, 0, 0) and not c.due_provisional
    assert c.budget_seconds == (at(2026, 9, 29) - at(2026, 9, 24, 10)).total_seconds()
    # 挂账 for 30 hours: the due moment moves by the wall time paused
    with clock.frozen(at(2026, 9, 25, 12, 0)):
        c = world.move(c, "suspend", reason="等待产权单位答复")
    with clock.frozen(at(2026, 9, 26, 18, 0)):
        c = world.move(c, "resume")
    assert c.paused_measure_seconds == 30 * 3600
    assert c.due_at == at(2026, 9, 30, 6, 0)
    # an approved 2-day extension re-counts the period from the same start: Thu + 5 = Tue 09-29, + 30 h paused
    with clock.frozen(at(2026, 9, 27, 9, 0)):
        c = world.move(
            c, "request_extension", actor=world.handler, amount=2, unit="natural_days", reason="待配件"
        )
        c = world.move(c, "approve_extension", actor=world.shift_leader, note="同意")
    assert c.extension_amount == 2 and c.due_at == at(2026, 9, 30, 0, 0) + 30 * H


def test_extension_past_a_holiday_and_lights(world, django_capture_on_commit_callbacks):
    _natural_days_world(world, amount=5)
    with clock.frozen(at(2026, 9, 28, 9, 0)):  # Monday; + 5 = Sat 10-03 (国庆) → Thu 10-08 24:00
        c = world.to_state("handling")
    assert c.due_at == at(2026, 10, 9, 0, 0)
    budget = c.budget_seconds
    with clock.frozen(at(2026, 9, 28, 9, 0) + timedelta(seconds=budget * 0.79)):
        refresh_lights()
    c.refresh_from_db()
    assert c.light == Light.GREEN
    with clock.frozen(at(2026, 10, 8, 23, 59)):
        refresh_lights()
    c.refresh_from_db()
    assert c.light == Light.YELLOW
    with django_capture_on_commit_callbacks(execute=True), clock.frozen(at(2026, 10, 9, 0, 0, 1)):
        refresh_lights()
    c.refresh_from_db()
    assert c.light == Light.RED and c.is_overdue
    note = Notification.objects.filter(case=c, kind="red").first()
    assert "已超时，到期时间 10月8日 24:00" in note.text
    with clock.frozen(at(2026, 10, 9, 9, 0)):
        c = world.move(
            c, "request_extension", actor=world.handler, amount=1, unit="natural_days", reason="待配件"
        )
        c = world.move(c, "approve_extension", actor=world.shift_leader, note="同意")
    # Mon + 6 = Sun 10-04, still 国庆 → Thu 10-08 24:00: the extension adds nothing across the holiday
    assert c.due_at == at(2026, 10, 9, 0, 0)


def test_dispatch_may_give_a_natural_days_limit_and_names_all_units_when_wrong(world):
    c = world.to_state("accepted")
    with pytest.raises(ValidationFailed) as exc:
        world.move(c, "dispatch", department=world.dept, amount=3, unit="days")
    assert exc.value.field == "unit" and "自然日" in exc.value.message
    with clock.frozen(at(2026, 2, 10, 23, 59)):  # Tuesday; + 5 = Sun 02-15 (春节) → Tue 02-24 24:00
        c = world.move(c, "dispatch", department=world.dept, amount=5, unit="natural_days")
    assert (c.limit_amount, c.limit_unit) == (5, "natural_days")
    assert c.due_at == at(2026, 2, 25, 0, 0)


def test_case_page_shows_the_last_day_at_24_00(world, client):
    _natural_days_world(world, amount=1)
    with clock.frozen(at(2026, 3, 10, 23, 59)):  # received at 23:59: due at the end of the next day
        c = world.to_state("dispatched")
    assert c.due_at == at(2026, 3, 12, 0, 0)
    client.force_login(world.dispatcher)
    html = client.get(f"/cases/{c.pk}/").content.decode()
    assert "3月11日 24:00" in html and "3月12日 00:00" not in html
    assert "1自然日" in html
    assert ExtensionForm(case=c).fields["unit"].choices == [("natural_days", "自然日")]


def test_category_admin_accepts_natural_days(world, client):
    admin = UserFactory(role=Role.SYSTEM_ADMIN, is_staff=True, is_superuser=False)
    cat = Category.objects.get(code="J93001")
    client.force_login(admin)
    url = f"/admin/cases/category/{cat.pk}/change/"
    page = client.get(url)
    assert '<option value="natural_days">自然日</option>' in page.content.decode()
    form = page.context["adminform"].form
    data = {k: ("" if v is None else v) for k, v in form.initial.items()}
    data.update({"handle_limit_amount": 60, "handle_limit_unit": "natural_days", "parent": cat.parent_id})
    data = {k: v for k, v in data.items() if not isinstance(v, bool) or v}
    r = client.post(url, data)
    assert r.status_code == 302, r.content.decode()[:2000]
    cat.refresh_from_db()
    assert cat.limit_for("handle") == (60, "natural_days")


def test_api_extension_in_natural_days_and_schema_lists_the_unit(world, api_client):
    _natural_days_world(world)
    c = world.to_state("handling")
    api = api_client.login(world.handler)
    r = api.post(f"/cases/{c.pk}/request-extension", {"version": c.version, "amount": 2, "unit": "hours"})
    assert r.status_code == 422 and r.json()["field"] == "unit"
    r = api.post(
        f"/cases/{c.pk}/request-extension",
        {"version": c.version, "amount": 2, "unit": "natural_days", "reason": "等待鉴定"},
    )
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["limit_unit"] == "natural_days" and body["pending_extension"]["unit"] == "natural_days"
    schema = api_client.login(world.dispatcher).get("/openapi.json").json()
    assert "natural_days" in str(schema["components"]["schemas"])


def test_migration_gives_the_catch_all_category_its_other_synonyms():
    migration = importlib.import_module("civicgrid.cases.migrations.0031_other_category_synonyms")
    other = Category.objects.get(code="J99001")
    assert {"其他", "其他问题"} <= set(other.synonym_list)  # the seed has them
    Category.objects.filter(pk=other.pk).update(synonyms="别的事")  # a database seeded before, admin-edited
    migration.add(django_apps, None)
    other.refresh_from_db()
    assert other.synonym_list == ["别的事", "其他", "其他问题", "其它", "其它问题"]
    migration.add(django_apps, None)  # idempotent
    other.refresh_from_db()
    assert other.synonym_list == ["别的事", "其他", "其他问题", "其它", "其它问题"]
