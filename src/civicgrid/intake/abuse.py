"""Abuse limits for the public 随手拍 form: sliding-window counters in Django's cache and a signed arithmetic
challenge.

Counters are keyed by a hash of the identity (client IP or phone number), never the raw value. With several
app-server processes configure a shared cache (``CACHES``); the default per-process memory cache makes every
limit per process.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from django.core import signing
from django.core.cache import cache

from civicgrid.core import clock

HOUR = 3600
TEN_MINUTES = 600


@dataclass(frozen=True)
class Limit:
    name: str
    count: int
    window: int  # seconds


# successful submissions
IP_SUBMISSIONS = Limit("ip_submit", 5, HOUR)
PHONE_SUBMISSIONS = Limit("phone_submit", 3, HOUR)
# after this many submissions from one IP in ten minutes, the next one must answer the challenge
CHALLENGE_AFTER = Limit("ip_submit_recent", 2, TEN_MINUTES)
# every POST, valid or not (bounds the image decoding work one client can cause)
IP_ATTEMPTS = Limit("ip_attempt", 30, HOUR)
# tracking-code lookups that found nothing (guessing)
IP_TRACK_MISSES = Limit("ip_track_miss", 30, TEN_MINUTES)


def _key(bucket: str, identity: str) -> str:
    digest = hashlib.sha256(identity.encode()).hexdigest()[:32]
    return f"cg:resident:{bucket}:{digest}"


def _recent(bucket: str, identity: str, window: int) -> list[float]:
    now = clock.now().timestamp()
    stamps = cache.get(_key(bucket, identity)) or []
    return [t for t in stamps if now - t < window]


def count(limit: Limit, identity: str | None, *, bucket: str | None = None) -> int:
    if not identity:
        return 0
    return len(_recent(bucket or limit.name, identity, limit.window))


def exceeded(limit: Limit, identity: str | None, *, bucket: str | None = None) -> bool:
    return count(limit, identity, bucket=bucket) >= limit.count


def hit(limit: Limit, identity: str | None, *, bucket: str | None = None) -> None:
    """Record one event for ``identity`` (keeps the stamps of the last ``limit.window`` seconds)."""
    if not identity:
        return
    name = bucket or limit.name
    stamps = _recent(name, identity, limit.window)
    stamps.append(clock.now().timestamp())
    cache.set(_key(name, identity), stamps[-200:], timeout=limit.window)


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
    # one use per token
    if not cache.add(f"cg:resident:challenge:{data['n']}", 1, timeout=CHALLENGE_MAX_AGE):
        return "验证题：该验证题已使用，请回答新的验证题"
    if not secrets.compare_digest(_answer_hash(data["n"], value), data["h"]):
        return "验证题：答案不正确，请重新计算"
    return None
