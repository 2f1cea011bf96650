"""Abuse limits for the public 随手拍 form: shared counters per device, per IP and per phone number, and a
signed arithmetic challenge.

- **Device**: the first visit gets a signed, long-lived cookie (``cg_device``, a random id; the page works without
  JavaScript). A device may submit :data:`DEVICE_SUBMISSIONS` reports an hour; its third within ten minutes, or
  any report from a client without the cookie (a script), must answer the arithmetic question first. The
  question is friction, not a barrier: scripts can solve it; the device and IP limits are what hold.
- **IP**: residents share carrier NAT addresses, so the per-IP limit is much higher (:data:`IP_SUBMISSIONS`).
- **Phone**: at most :data:`PHONE_SUBMISSIONS` reports an hour give the same contact number.

Counters live in the database (:mod:`civicgrid.core.ratelimit`), so every gunicorn worker and every app server
counts against the same numbers; identities are stored hashed.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core import signing

from civicgrid.core import ratelimit
from civicgrid.core.ratelimit import Limit

HOUR = 3600
TEN_MINUTES = 600

# successful submissions
DEVICE_SUBMISSIONS = Limit("device_submit", 5, HOUR)
IP_SUBMISSIONS = Limit("ip_submit", 60, HOUR)
PHONE_SUBMISSIONS = Limit("phone_submit", 3, HOUR)
# after this many submissions from one device in ten minutes, the next one must answer the challenge
CHALLENGE_AFTER = Limit("device_submit_recent", 2, TEN_MINUTES)
# every POST, valid or not (bounds the image decoding work one client can cause)
DEVICE_ATTEMPTS = Limit("device_attempt", 30, HOUR)
IP_ATTEMPTS = Limit("ip_attempt", 300, HOUR)
# tracking-code lookups that found nothing (guessing)
DEVICE_TRACK_MISSES = Limit("device_track_miss", 30, TEN_MINUTES)
IP_TRACK_MISSES = Limit("ip_track_miss", 300, TEN_MINUTES)

count = ratelimit.count
exceeded = ratelimit.exceeded
hit = ratelimit.hit
take = ratelimit.take


# --- the device token ------------------------------------------------------------------------------

DEVICE_COOKIE = "cg_device"
DEVICE_SALT = "civicgrid.intake.resident.device"
DEVICE_MAX_AGE = 2 * 365 * 24 * HOUR


def device_id(request) -> str | None:
    """The id in the request's signed device cookie, or ``None`` (no cookie, or a forged one)."""
    value = request.get_signed_cookie(DEVICE_COOKIE, default=None, salt=DEVICE_SALT, max_age=DEVICE_MAX_AGE)
    return f"d:{value}" if value else None


def issue_device(request, response) -> None:
    """Give a client without a (valid) device cookie a new one."""
    if device_id(request) is None:
        response.set_signed_cookie(
            DEVICE_COOKIE,
            secrets.token_urlsafe(18),
            salt=DEVICE_SALT,
            max_age=DEVICE_MAX_AGE,
            httponly=True,
            samesite="Lax",
            secure=settings.SESSION_COOKIE_SECURE,
        )


# --- the arithmetic challenge ----------------------------------------------------------------------

CHALLENGE_SALT = "civicgrid.intake.resident.challenge"
CHALLENGE_MAX_AGE = TEN_MINUTES


@dataclass(frozen=True)
class Challenge:
    question: str
    token: str


def new_challenge() -> Challenge:
    a, b = secrets.randbelow(9) + 2, secrets.randbelow(9) + 2
    if secrets.randbelow(2):
        question, answer = f"{a} + {b} = ?", a + b
    else:
        a, b = max(a, b) + 5, min(a, b)
        question, answer = f"{a} - {b} = ?", a - b
    nonce = secrets.token_urlsafe(9)
    # the answer is bound to the token by an HMAC, so the page cannot be answered by editing the token
    token = signing.dumps({"q": question, "n": nonce, "h": _answer_hash(nonce, answer)}, salt=CHALLENGE_SALT)
    return Challenge(question=question, token=token)


def _answer_hash(nonce: str, answer: int) -> str:
    return signing.Signer(salt=CHALLENGE_SALT + ".answer").signature(f"{nonce}:{answer}")


def check_challenge(token: str, answer: str) -> str | None:
    """None if ``answer`` is right for ``token`` (and the token is fresh and unused), else a Chinese message."""
    if not token:
        return "验证题：提交较频繁，请先回答验证题"
    try:
        data = signing.loads(token, salt=CHALLENGE_SALT, max_age=CHALLENGE_MAX_AGE)
    except signing.SignatureExpired:
        return "验证题：验证题已过期，请回答新的验证题"
    except signing.BadSignature:
        return "验证题：验证题无效，请回答新的验证题"
    answer = (answer or "").strip()
    if not answer:
        return "验证题：请填写验证题的答案"
    try:
        value = int(answer)
    except ValueError:
        return "验证题：答案应为数字"
    # one use per token, on every server
    if not ratelimit.first_use("challenge_used", data["n"], CHALLENGE_MAX_AGE):
        return "验证题：该验证题已使用，请回答新的验证题"
    if not secrets.compare_digest(_answer_hash(data["n"], value), data["h"]):
        return "验证题：答案不正确，请重新计算"
    return None
