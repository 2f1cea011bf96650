"""Request ids, structured (JSON) logs and Prometheus metrics.

- Every request gets an id (the proxy's ``X-Request-ID`` when it is sane, else a new one), answered in the
  ``X-Request-ID`` response header and attached, with the user id, to every log record written while serving it.
- ``CIVICGRID_LOG_FORMAT=json``: one JSON object per line with ``time``, ``level``, ``logger``, ``message``,
  ``request_id``, ``user_id``, ``path``, ``status``, ``duration_ms``; each request also writes one
  ``civicgrid.request`` line (``CIVICGRID_REQUEST_LOG=1`` turns those on in the plain format too).
- Metrics (``prometheus_client``): request count and latency histogram by method / route / status. With
  ``PROMETHEUS_MULTIPROC_DIR`` set (deploy/gunicorn.conf.py does), ``/metrics`` adds up all gunicorn workers.
  Database gauges (open cases by light, import and webhook queues) are read at scrape time.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import re
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "civicgrid_request_id", default=None
)
user_id_var: contextvars.ContextVar[int | None] = contextvars.ContextVar("civicgrid_user_id", default=None)
path_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("civicgrid_path", default=None)

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._\-]{8,64}$")
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
request_log = logging.getLogger("civicgrid.request")


def log_format() -> str:
    return os.environ.get("CIVICGRID_LOG_FORMAT", "plain").strip().lower()


def request_log_enabled() -> bool:
    return log_format() == "json" or os.environ.get("CIVICGRID_REQUEST_LOG") == "1"


# --- logging --------------------------------------------------------------------------------------------------


class ContextFilter(logging.Filter):
    """Puts the current request id, user id and path on every record (``None`` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        if not hasattr(record, "user_id"):
            record.user_id = user_id_var.get()
        if not hasattr(record, "path"):
            record.path = path_var.get()
        return True


class JsonFormatter(logging.Formatter):
    FIELDS = ("request_id", "user_id", "path", "method", "status", "duration_ms", "route")

    def format(self, record: logging.LogRecord) -> str:
        out = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in self.FIELDS:
            value = getattr(record, key, None)
            if value is not None or key in ("request_id", "user_id", "path"):
                out[key] = value
        if record.exc_info:
            out["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


# --- metrics --------------------------------------------------------------------------------------------------

_metrics = None


def _request_metrics():
    """Created on first use (after PROMETHEUS_MULTIPROC_DIR is in the environment)."""
    global _metrics
    if _metrics is None:
        from prometheus_client import Counter, Histogram

        labels = ["method", "route", "status"]
        _metrics = (
            Counter("civicgrid_http_requests", "HTTP requests answered", labels),
            Histogram(
                "civicgrid_http_request_duration_seconds",
                "Time to answer an HTTP request",
                labels,
                buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            ),
        )
    return _metrics


def route_of(request) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unmatched"
    return "/" + (match.route or match.view_name or "unknown")


def observe(request, status: int, seconds: float) -> None:
    method = request.method if request.method in METHODS else "OTHER"
    counter, histogram = _request_metrics()
    labels = (method, route_of(request), str(status))
    counter.labels(*labels).inc()
    histogram.labels(*labels).observe(seconds)


# Database gauges the apps add at ready(): name -> a function yielding prometheus metric families.
_GAUGE_SOURCES: dict[str, Callable[[], Iterable]] = {}


def register_gauges(name: str, families: Callable[[], Iterable]) -> None:
    """Add an app's database gauges to ``/metrics`` (read at scrape time, in registration order)."""
    _GAUGE_SOURCES[name] = families


class DatabaseCollector:
    """Gauges read from the database at scrape time (a failure yields ``civicgrid_db_scrape_ok 0``)."""

    def collect(self):
        from prometheus_client.core import GaugeMetricFamily

        ok = GaugeMetricFamily("civicgrid_db_scrape_ok", "1 when the database gauges below could be read")
        try:
            families = list(self._families())
        except Exception:
            logging.getLogger(__name__).exception("metrics: database gauges failed")
            ok.add_metric([], 0)
            yield ok
            return
        ok.add_metric([], 1)
        yield ok
        yield from families

    def _families(self):
        from prometheus_client.core import GaugeMetricFamily

        from civicgrid.core import heartbeat

        for families in list(_GAUGE_SOURCES.values()):
            yield from families()
        age = heartbeat.age_seconds()
        yield GaugeMetricFamily(
            "civicgrid_job_runner_heartbeat_age_seconds",
            "Seconds since the periodic job runner last beat (-1: never)",
            value=-1.0 if age is None else age,
        )


def render_metrics() -> bytes:
    from prometheus_client import REGISTRY, CollectorRegistry, generate_latest

    _request_metrics()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        process_registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(process_registry)
    else:
        process_registry = REGISTRY
    db_registry = CollectorRegistry()
    db_registry.register(DatabaseCollector())
    return generate_latest(process_registry) + generate_latest(db_registry)


# --- middleware -----------------------------------------------------------------------------------------------


def _user_id(request) -> int | None:
    user = getattr(request, "user", None)
    if user is not None and getattr(user, "is_authenticated", False):
        return user.pk
    auth = getattr(request, "auth", None)  # django-ninja token auth
    if auth is not None and getattr(auth, "is_authenticated", False):
        return auth.pk
    return None


class ObservabilityMiddleware:
    """Request id, per-request log line, request metrics. Placed first, so it times the whole stack."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        rid = incoming if _REQUEST_ID_RE.match(incoming) else uuid.uuid4().hex
        request.request_id = rid
        tokens = (request_id_var.set(rid), path_var.set(request.path), user_id_var.set(None))
        started = time.perf_counter()
        status = 500
        try:
            response = self.get_response(request)
            status = response.status_code
            response["X-Request-ID"] = rid
            return response
        finally:
            seconds = time.perf_counter() - started
            user_id = _user_id(request)
            user_id_var.set(user_id)
            try:
                observe(request, status, seconds)
            except Exception:  # metrics must never break a request
                logging.getLogger(__name__).exception("metrics: observe failed")
            if request_log_enabled():
                request_log.info(
                    "%s %s %s %.1fms",
                    request.method,
                    request.path,
                    status,
                    seconds * 1000,
                    extra={
                        "method": request.method,
                        "status": status,
                        "duration_ms": round(seconds * 1000, 1),
                        "route": route_of(request),
                        "user_id": user_id,
                    },
                )
            for var, token in zip((request_id_var, path_var, user_id_var), tokens, strict=True):
                var.reset(token)
