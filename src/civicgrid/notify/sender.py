"""Send due :class:`WebhookDelivery` rows: WeCom / DingTalk group-robot markdown, retries with backoff.

``deliver_due()`` runs as core's periodic job ``send_webhooks`` (:mod:`civicgrid.notify.runner`; one runner at a
time across servers), and claims each due row with a conditional UPDATE too (so a manual ``send_webhooks`` never
sends a row the job is sending),
POSTs it outside any transaction with a 5 s timeout and records the outcome. A failure schedules the next try
1, 2, 4, 8, 16 minutes later; after :data:`MAX_ATTEMPTS` tries the row is ``failed``. Nothing here raises into
its caller: the case engine never waits for, or fails because of, a robot.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import threading
import time
import urllib.parse
from datetime import datetime, timedelta

import requests
from django.db import close_old_connections

from civicgrid.core import clock
from civicgrid.notify.models import DeliveryStatus, WebhookDelivery, WebhookKind

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 5
MAX_ATTEMPTS = 6
BACKOFF_MINUTES = (1, 2, 4, 8, 16)
# a claimed row is invisible to other senders for this long (longer than one POST can take)
CLAIM_LEASE = timedelta(seconds=60)
BATCH = 50


def backoff(attempts: int) -> timedelta:
    """Delay after the ``attempts``-th failed try (1 → 1 min, 2 → 2 min … 5 → 16 min)."""
    idx = min(max(attempts, 1), len(BACKOFF_MINUTES)) - 1
    return timedelta(minutes=BACKOFF_MINUTES[idx])


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk 加签: base64(HMAC-SHA256(secret, f"{timestamp}\\n{secret}")), URL-encoded."""
    string_to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), string_to_sign, hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest).decode())


def signed_url(url: str, secret: str, timestamp_ms: int | None = None) -> str:
    if not secret:
        return url
    ts = int(time.time() * 1000) if timestamp_ms is None else timestamp_ms
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}timestamp={ts}&sign={dingtalk_sign(secret, ts)}"


def _post(delivery: WebhookDelivery) -> str | None:
    """POST one delivery. Returns None on success, else a short error text (Chinese + detail)."""
    ep = delivery.endpoint
    url = signed_url(ep.url, ep.secret) if ep.kind == WebhookKind.DINGTALK else ep.url
    try:
        resp = requests.post(url, json=delivery.payload, timeout=TIMEOUT_SECONDS)
    except requests.Timeout:
        return f"请求超时（{TIMEOUT_SECONDS} 秒）"
    except requests.RequestException as exc:
        return f"无法连接：{type(exc).__name__}: {str(exc)[:300]}"
    if not 200 <= resp.status_code < 300:
        return f"HTTP {resp.status_code}: {resp.text[:300]}"
    # both robots answer 200 with {"errcode": 0, "errmsg": "ok"}; a non-zero errcode is a refusal
    try:
        body = resp.json()
    except ValueError:
        return None
    if isinstance(body, dict) and body.get("errcode") not in (None, 0):
        return f"机器人返回错误 errcode={body.get('errcode')}: {str(body.get('errmsg', ''))[:300]}"
    return None


def _claim(pk: int, now: datetime) -> bool:
    updated = WebhookDelivery.objects.filter(
        pk=pk, status=DeliveryStatus.PENDING, next_attempt_at__lte=now
    ).update(next_attempt_at=now + CLAIM_LEASE)
    return updated == 1


def deliver_one(delivery: WebhookDelivery, now: datetime) -> bool:
    """Send a claimed delivery and store the outcome. True if sent."""
    if not delivery.endpoint.is_active:
        error = "接收端已停用"
        attempts = delivery.attempts
        final = True
    else:
        error = _post(delivery)
        attempts = delivery.attempts + 1
        final = error is not None and attempts >= MAX_ATTEMPTS
    finished = max(now, clock.now())
    if error is None:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.SENT,
            attempts=attempts,
            sent_at=finished,
            last_error="",
            next_attempt_at=None,
        )
        return True
    if final:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.FAILED, attempts=attempts, last_error=error, next_attempt_at=None
        )
        log.warning("webhook delivery %s failed for good: %s", delivery.pk, error)
    else:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            attempts=attempts, last_error=error, next_attempt_at=now + backoff(attempts)
        )
        log.info("webhook delivery %s attempt %s failed: %s", delivery.pk, attempts, error)
    return False


def deliver_due(now: datetime | None = None, *, limit: int = BATCH) -> dict[str, int]:
    """Send every pending delivery whose time has come. Returns counts ``{"sent", "retry", "failed"}``."""
    now = clock.now() if now is None else now
    counts = {"sent": 0, "retry": 0, "failed": 0}
    due = list(
        WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in due:
        if not _claim(pk, now):
            continue  # another sender took it
        delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=pk)
        try:
            ok = deliver_one(delivery, now)
        except Exception as exc:  # a bug here must not stop the other rows
            log.exception("webhook delivery %s crashed", pk)
            WebhookDelivery.objects.filter(pk=pk).update(
                attempts=delivery.attempts + 1,
                last_error=f"内部错误：{exc!r}"[:500],
                next_attempt_at=now + backoff(delivery.attempts + 1),
            )
            counts["retry"] += 1
            continue
        if ok:
            counts["sent"] += 1
        else:
            status = WebhookDelivery.objects.filter(pk=pk).values_list("status", flat=True).first()
            counts["failed" if status == DeliveryStatus.FAILED else "retry"] += 1
    return counts


# --- background sender -----------------------------------------------------------------------------

POLL_SECONDS = 30
_wake = threading.Event()
_thread: threading.Thread | None = None
_thread_lock = threading.Lock()


def wake() -> None:
    """Ask the background sender (if running) to look for due rows now."""
    _wake.set()


def _loop() -> None:
    from civicgrid.core import periodic
    from civicgrid.notify.runner import JOB_NAME

    while True:
        _wake.wait(POLL_SECONDS)
        _wake.clear()
        try:
            close_old_connections()
            # through core's lease: one sender at a time across servers (rows are still claimed one by one)
            periodic.run_now(JOB_NAME)
        except Exception:
            log.exception("webhook sender loop")
        finally:
            close_old_connections()


def start_background_sender() -> bool:
    """Start the daemon sender thread once per process. Returns True if this call started it."""
    global _thread
    with _thread_lock:
        if _thread is not None and _thread.is_alive():
            return False
        _thread = threading.Thread(target=_loop, name="civicgrid-webhooks", daemon=True)
        _thread.start()
        _wake.set()  # send what a previous process left behind
        return True
