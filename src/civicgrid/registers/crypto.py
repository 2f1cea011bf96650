"""Personal data at rest: the ID number (and phone) encrypted with Fernet, found by a keyed hash (HMAC-SHA256),
shown masked.

Keys: ``settings.CIVICGRID_PII_KEYS`` (env ``CIVICGRID_PII_KEYS``, comma-separated long random strings, the
current one first, older ones after it), else ``settings.CIVICGRID_PII_KEY`` (one key), else ``SECRET_KEY``. Two
independent keys are derived from each material with HKDF-SHA256 (``info`` = ``civicgrid-pii-fernet`` /
``civicgrid-pii-hmac``), so the encryption key and the search key differ and neither equals the material.

Rotation: new values are encrypted and hashed with the current (first) key only; reading accepts every listed key
(:class:`~cryptography.fernet.MultiFernet`) and an exact search compares the hash under every listed key
(:func:`search_hashes`), so the register keeps working while ``civicgrid registers rotate-key`` re-encrypts
and re-hashes the rows; afterwards the old key can be dropped from the list. Keys are never logged, never put in
an audit row, never returned by any endpoint.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import re

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

ID_RE = re.compile(r"^\d{17}[\dX]$")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def _materials() -> tuple[bytes, ...]:
    keys = getattr(settings, "CIVICGRID_PII_KEYS", None) or ()
    if isinstance(keys, str):
        keys = keys.split(",")
    keys = [k.strip() for k in keys if k and k.strip()]
    if not keys:
        keys = [getattr(settings, "CIVICGRID_PII_KEY", "") or settings.SECRET_KEY]
    return tuple(k.encode("utf-8") for k in keys)


def _derive(material: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"civicgrid-registers", info=info).derive(material)


@functools.cache
def _keys(materials: tuple[bytes, ...]) -> tuple[MultiFernet, tuple[bytes, ...]]:  # cached per key list
    fernets = [Fernet(base64.urlsafe_b64encode(_derive(m, b"civicgrid-pii-fernet"))) for m in materials]
    return MultiFernet(fernets), tuple(_derive(m, b"civicgrid-pii-hmac") for m in materials)


def _fernet() -> MultiFernet:
    return _keys(_materials())[0]


def _hmac_keys() -> tuple[bytes, ...]:
    return _keys(_materials())[1]


def key_count() -> int:
    return len(_materials())


def normalise_id(value: str) -> str:
    return re.sub(r"\s+", "", str(value or "")).upper()


def id_problem(value: str) -> str | None:
    """Why ``value`` is not a valid 18-digit 居民身份证号码 (GB 11643 check digit), or ``None``."""
    v = normalise_id(value)
    if not ID_RE.match(v):
        return "身份证号应为 18 位（前 17 位数字，末位数字或 X）"
    total = sum(int(c) * w for c, w in zip(v[:17], _WEIGHTS, strict=True))
    if _CHECK[total % 11] != v[17]:
        return "身份证号校验位不正确"
    return None


def with_check_digit(first17: str) -> str:
    total = sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True))
    return first17 + _CHECK[total % 11]


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode("utf-8")).decode("ascii") if value else ""


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken:
        return "（无法解密：密钥已更换）"


def search_hash(value: str) -> str:
    """The keyed hash (current key) stored with a row and compared by an exact search (hex, 64 chars)."""
    return _hash(_hmac_keys()[0], value)


def search_hashes(value: str) -> list[str]:
    """The hash of ``value`` under every listed key, current first (a row not yet rotated has an older one)."""
    return [_hash(key, value) for key in _hmac_keys()]


def _hash(key: bytes, value: str) -> str:
    return hmac.new(key, normalise_id(value).encode("utf-8"), hashlib.sha256).hexdigest()


def rotate(token: str) -> str:
    """``token`` re-encrypted under the current key (readable under any listed key); ``""`` stays ``""``."""
    return _fernet().rotate(token.encode("ascii")).decode("ascii") if token else ""


def mask_id(value: str) -> str:
    v = normalise_id(value)
    return f"{v[:4]}{'*' * (len(v) - 8)}{v[-4:]}" if len(v) > 8 else "*" * len(v)


def mask_phone(value: str) -> str:
    v = re.sub(r"\D", "", value or "")
    return f"{v[:3]}****{v[-4:]}" if len(v) >= 8 else ("*" * len(v))
