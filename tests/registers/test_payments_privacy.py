"""一户一档 保障金: the monthly sheet through the core importer (row errors naming the row, idempotent per month,
a changed amount updates), the year totals and the A4 card; personal data retention (purge) and key rotation
(a key list: old rows readable and findable until rotated; the import ledgers follow the new hashes)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from io import BytesIO

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from civicgrid.core import clock
from civicgrid.core.models import AuditLog, ImportRun, ImportRunError
from civicgrid.registers import crypto, selectors, services
from civicgrid.registers.models import AssistancePayment, Person
from tests.registers.conftest import id_number

pytestmark = pytest.mark.django_db

HEADER = ["序号", "姓名", "公民身份号码", "救助类别", "发放年月", "金额（元）"]


@pytest.fixture(autouse=True)
def inline_runs(settings, tmp_path):
    settings.BACKGROUND_RUN_INLINE = True
    settings.DATA_DIR = tmp_path


def _xlsx(rows) -> SimpleUploadedFile:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["示范社区 低保金发放表"])
    ws.append(HEADER)
    for r in rows:
        ws.append(r)
    buf = BytesIO()
    wb.save(buf)
    return SimpleUploadedFile("发放表.xlsx", buf.getvalue())


def _run(client, rows, callbacks) -> ImportRun:
    resp = client.post("/imports/registers.payments/new/", {"file": _xlsx(rows)})
    assert resp.status_code == 302, resp.content.decode()[:500]
    run = ImportRun.objects.get(pk=int(resp.url.rstrip("/").rsplit("/", 1)[1]))
    with callbacks(execute=True):
        assert client.post(f"/imports/runs/{run.pk}/start/").status_code == 302
    run.refresh_from_db()
    return run


def _errors(run) -> dict[int, str]:
    return dict(ImportRunError.objects.filter(job=run).values_list("row_number", "reason"))


MARCH = [
    [1, "王阿婆", id_number(1), "低保", "2026-03", 1180],
    [2, "王阿婆", id_number(1), "残疾人两项补贴", "2026年3月", "245.50"],
    [3, "王阿婆", id_number(9), "低保", "2026-03", 1180],  # not on the register
    [4, "王大妈", id_number(1), "低保", "2026-03", 1180],  # name differs from the register
    [5, "王阿婆", id_number(1), "低保", "2026-13", 1180],  # no such month
    [6, "王阿婆", id_number(1), "低保", "2026-03", -5],  # negative
    [7, "李流动", id_number(2, "19900505"), "低保", "2026-03", 800],  # no 户
]


def test_the_monthly_sheet_imports_once_per_month_with_row_errors_named(
    rw, client, django_capture_on_commit_callbacks
):
    dibao = services.save_assistance(
        actor=rw.community_staff, household=rw.household, kind="dibao", recognized_on=date(2025, 6, 1),
        review_on=date(2026, 6, 1), monthly_amount=1180, person=rw.granny,
    )  # fmt: skip
    client.force_login(rw.community_staff)
    run = _run(client, MARCH, django_capture_on_commit_callbacks)
    assert (run.created_count, run.failed) == (2, 5)
    errors = _errors(run)  # sheet rows: title 1, header 2, data from 3
    assert set(errors) == {5, 6, 7, 8, 9}
    assert "不在人员台账" in errors[5] and "3301**********" in errors[5] and id_number(9) not in errors[5]
    assert "姓名：与台账不一致" in errors[6]
    assert "发放月份" in errors[7] and "发放金额" in errors[8] and "未归户" in errors[9]
    paid = AssistancePayment.objects.get(kind="dibao")
    assert (paid.month, paid.amount, paid.item, paid.person) == (
        date(2026, 3, 1),
        Decimal(1180),
        dibao,
        rw.granny,
    )
    assert AssistancePayment.objects.get(kind="disability").item is None  # no such 救助帮扶 item registered

    # the same month's sheet again: nothing changes; a corrected amount updates that row only
    again = _run(client, MARCH, django_capture_on_commit_callbacks)
    assert (again.created_count, again.updated_count) == (0, 0)
    fixed = [*MARCH[:1], [2, "王阿婆", id_number(1), "残疾人两项补贴", "2026-03", 250]]
    third = _run(client, fixed, django_capture_on_commit_callbacks)
    assert (third.created_count, third.updated_count) == (0, 1)
    # April is another month: new rows
    april = _run(
        client, [[1, "王阿婆", id_number(1), "低保", "2026-04", 1180]], django_capture_on_commit_callbacks
    )
    assert april.created_count == 1 and AssistancePayment.objects.count() == 3

    # year totals: 1180 + 250 + 1180; the figures page says it the way the 街道 reports do
    totals = selectors.payment_totals(user=rw.leader, year=2026)
    assert (totals["total"], totals["households"], totals["persons"], totals["rows"]) == (
        Decimal("2610.00"),
        1,
        1,
        3,
    )
    assert selectors.payment_totals(user=rw.other_worker, year=2026)["total"] == 0  # another grid sees none
    client.force_login(rw.leader)
    page = client.get("/registers/figures/?start=2026-04-01&end=2026-04-30").content.decode()
    assert "累计发放保障金 <b>2610.00</b> 元" in page
    card = client.get(f"/registers/households/{rw.household.pk}/card/").content.decode()
    assert "2026 年累计发放 <b>2610.00</b> 元（3 笔）" in card and "2026-04" in card and "1180.00" in card
    assert "认定日" in card and "2025-06-01" in card and "@media print" not in card  # the print CSS is a file
    assert AuditLog.objects.filter(action="registers.payment.import").count() == 4


def test_a_grid_worker_cannot_import_payments(rw, client):
    client.force_login(rw.grid_worker)
    assert client.get("/imports/registers.payments/new/").status_code == 403


def test_retention_purges_id_and_phone_of_persons_gone_for_years(rw):
    today = clock.local_now().date()
    services.move_floating(actor=rw.grid_worker, person=rw.tenant, move="list")
    services.move_floating(actor=rw.grid_worker, person=rw.tenant, move="cancel", left_on=today)
    Person.objects.filter(pk=rw.tenant.pk).update(
        cancelled_on=today - timedelta(days=3 * 366), left_on=today - timedelta(days=3 * 366 + 2)
    )
    Person.objects.filter(pk=rw.outsider.pk).update(is_active=False, cancelled_on=today - timedelta(days=400))
    assert services.purge_personal_data(years=3, dry_run=True) == 1
    call_command("registers", "purge", "--years", "3")
    tenant, outsider = Person.objects.get(pk=rw.tenant.pk), Person.objects.get(pk=rw.outsider.pk)
    assert (tenant.id_cipher, tenant.phone_cipher, tenant.id_masked) == ("", "", "（已清除）")
    assert tenant.purged_at is not None and tenant.name == "李流动"  # the statistics keep the person
    assert outsider.id_masked != "（已清除）" and crypto.decrypt(outsider.id_cipher) == id_number(3)
    assert list(selectors.person_rows(user=rw.leader, q=id_number(2, "19900505"), active=None)) == []
    row = AuditLog.objects.get(action="registers.person.purge")
    assert row.after["persons"] == [rw.tenant.pk] and row.after["years"] == 3
    assert services.purge_personal_data(years=3) == 0  # once


def test_rotate_key_with_a_key_list(rw, settings, client, django_capture_on_commit_callbacks):
    old = settings.CIVICGRID_PII_KEY or settings.SECRET_KEY
    services.save_assistance(actor=rw.community_staff, household=rw.household, kind="dibao",
                             recognized_on=date(2025, 6, 1), person=rw.granny)  # fmt: skip
    client.force_login(rw.community_staff)
    sheet = MARCH[:1]
    assert _run(client, sheet, django_capture_on_commit_callbacks).created_count == 1
    old_hash = Person.objects.get(pk=rw.granny.pk).id_hash
    settings.CIVICGRID_PII_KEYS = "a-brand-new-key-for-2027-xxxxxxxxxxxxxxxx," + old
    # before the rotation: rows under the old key are read and found
    assert crypto.decrypt(Person.objects.get(pk=rw.granny.pk).id_cipher) == id_number(1)
    assert list(selectors.person_rows(user=rw.leader, q=id_number(1))) == [rw.granny]
    call_command("registers", "rotate-key")
    granny = Person.objects.get(pk=rw.granny.pk)
    assert granny.id_hash == crypto.search_hash(id_number(1)) != old_hash
    # the old key dropped: everything still reads and is found
    settings.CIVICGRID_PII_KEYS = "a-brand-new-key-for-2027-xxxxxxxxxxxxxxxx"
    assert (
        crypto.decrypt(granny.id_cipher) == id_number(1)
        and crypto.decrypt(granny.phone_cipher) == "13812345678"
    )
    assert list(selectors.person_rows(user=rw.leader, q=id_number(1))) == [rw.granny]
    assert AuditLog.objects.get(action="registers.keys.rotate").after["rotated"] == 3
    # the payment ledger followed the new hash: the same sheet finds its row (no second payment)
    again = _run(client, sheet, django_capture_on_commit_callbacks)
    assert again.created_count == 0 and AssistancePayment.objects.get().amount == 1180
    assert old not in repr(list(AuditLog.objects.values_list("before", "after", "note")))
