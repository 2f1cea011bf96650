"""Database gauges for ``/metrics`` (registered with :func:`civicgrid.core.observability.register_gauges`)."""

from __future__ import annotations

from django.db.models import Count, Min
from prometheus_client.core import GaugeMetricFamily

from civicgrid.core import clock
from civicgrid.notify.models import DeliveryStatus, WebhookDelivery


def families():
    now = clock.now()
    deliveries = GaugeMetricFamily(
        "civicgrid_webhook_deliveries", "Webhook deliveries by status", labels=["status"]
    )
    by_status = dict(
        WebhookDelivery.objects.values_list("status").annotate(n=Count("id")).values_list("status", "n")
    )
    for value in DeliveryStatus.values:
        deliveries.add_metric([value], by_status.get(value, 0))
    yield deliveries
    pending = WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING).aggregate(t=Min("created_at"))[
        "t"
    ]
    yield GaugeMetricFamily(
        "civicgrid_webhook_lag_seconds",
        "Age of the oldest pending webhook delivery (0: none pending)",
        value=max(0.0, (now - pending).total_seconds()) if pending else 0.0,
    )
