"""The demo 街道's monthly 保障金 (一户一档): for every 低保 / 特困 / 低保边缘 item of the demo registers, one payment a
month from the month it was recognised (at most ``DAYS`` back) to last month — to the member carrying the tag (the
whole household when none does); the standards rise by 4 % from July, as the 民政 standard does each year. Bulk
inserts, no audit rows (what the monthly import would write is shown by the import itself)."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

DAYS = 365
RAISE_MONTH = 7
RAISE = Decimal("1.04")


def _months(first: date, last: date):
    m = first.replace(day=1)
    while m <= last:
        yield m
        m = (m + timedelta(days=32)).replace(day=1)


def load_payments(
    street,
    rng: random.Random,
    *,
    staff=None,
    log: Callable[[str], None] = lambda m: None,
    days: int = DAYS,
    scale: float = 1.0,
) -> dict | None:
    from django.db import transaction

    from civicgrid.core import clock
    from civicgrid.core.bulk import SetBasedInserter
    from civicgrid.registers.models import AssistanceItem, AssistancePayment, Person

    if AssistancePayment.objects.filter(street=street).exists():
        log("演示保障金发放已存在，跳过。")
        return None
    items = list(AssistanceItem.objects.filter(household__street=street, monthly_amount__gt=0).order_by("pk"))
    if not items:
        return None
    log("正在生成保障金按月发放……")
    today = clock.local_now().date()
    last = today.replace(day=1) - timedelta(days=1)  # last month: this month's sheet is not in yet
    earliest = (today - timedelta(days=days)).replace(day=1)
    recipient: dict[tuple[int, str], int] = {}
    for pid, hh, code in Person.objects.filter(
        household__in={i.household_id for i in items}, tags__code__in=["dibao", "tekun", "bianyuan"]
    ).values_list("pk", "household_id", "tags__code"):
        recipient.setdefault((hh, code), pid)
    rows = []
    for item in items:
        end = min(last, item.exited_on or last)
        for month in _months(max(earliest, item.recognized_on), end):
            amount = item.monthly_amount * (
                RAISE if month.month >= RAISE_MONTH and month.year == today.year else 1
            )
            rows.append(
                {
                    "street_id": street.pk,
                    "household_id": item.household_id,
                    "person_id": recipient.get((item.household_id, item.kind)),
                    "item_id": item.pk,
                    "kind": item.kind,
                    "month": month,
                    "amount": amount.quantize(Decimal("1")),
                    "created_at": clock.now(),
                }
            )
    with transaction.atomic():
        SetBasedInserter(AssistancePayment, take_ids=False).insert(rows)
    total = sum((r["amount"] for r in rows), Decimal(0))
    this_year = sum((r["amount"] for r in rows if r["month"].year == today.year), Decimal(0))
    return {"payments": len(rows), "total": total, "this_year": this_year, "items": len(items)}
