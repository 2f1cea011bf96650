"""``{% load deadlines %}``: ``{{ case.due_at|due_time:case.limit_unit }}`` → "10月8日 17:30", or for a 自然日
period, which ends at 24:00 of its last day (stored as 00:00 of the next day), "10月8日 24:00"."""

from __future__ import annotations

from django import template

from civicgrid.cases.deadlines import due_label

register = template.Library()


@register.filter
def due_time(value, unit="") -> str:
    return due_label(value, unit)
