"""Database gauges for ``/metrics`` (registered with :func:`civicgrid.core.observability.register_gauges`)."""

from __future__ import annotations

from django.db.models import Count
from prometheus_client.core import GaugeMetricFamily

from civicgrid.cases import procedures
from civicgrid.cases.models import Case, Light


def families():
    light = GaugeMetricFamily(
        "civicgrid_open_cases", "Open (not yet closed) cases by light", labels=["light"]
    )
    by_light = dict(
        Case.objects.filter(procedures.group_q("open"))  # open in its own procedure
        .values_list("light")
        .annotate(n=Count("id"))
        .values_list("light", "n")
    )
    for value in [*Light.values, ""]:
        light.add_metric([value or "none"], by_light.get(value, 0))
    yield light
