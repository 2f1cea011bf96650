"""Personal data at rest: the ID number (and phone) encrypted with Fernet, found by a keyed hash (HMAC-SHA256),
shown masked.

Keys: ``settings.CIVICGRID_PII_KEY`` (env ``CIVICGRID_PII_KEY``, any long random string). When unset, the key
material is ``SECRET_KEY``. Two independent keys are derived from it with HKDF-SHA256 (``info`` =
``civicgrid-pii-fernet`` / ``civicgrid-pii-hmac``), so the encryption key and the search key differ and neither
equals the material. Keys are never logged, never put in an audit row, never returned by any endpoint.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import re

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

ID_RE = re.compile(r"^\d{17}[\dX]$")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def _material() -> bytes:
    raw = getattr(settings, "CIVICGRID_PII_KEY", "") or settings.SECRET_KEY
    return raw.encode("utf-8")


def _derive(info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"civicgrid-registers", info=info).derive(
        _material()
    )


@functools.cache
def _keys(material_id: int) -> tuple[Fernet, bytes]:  # cached per key material (tests may override settings)
    return Fernet(base64.urlsafe_b64encode(_derive(b"civicgrid-pii-fernet"))), _derive(b"civicgrid-pii-hmac")


def _fernet() -> Fernet:
    return _keys(hash(_material()))[0]


def _hmac_key() -> bytes:
    return _keys(hash(_material()))[1]


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
    """The keyed hash an exact search compares (hex, 64 chars)."""
    return hmac.new(_hmac_key(), normalise_id(value).encode("utf-8"), hashlib.sha256).hexdigest()


def mask_id(value: str) -> str:
    v = normalise_id(value)
    return f"{v[:4]}{'*' * (len(v) - 8)}{v[-4:]}" if len(v) > 8 else "*" * len(v)


def mask_phone(value: str) -> str:
    v = re.sub(r"\D", "", value or "")
    return f"{v[:3]}****{v[-4:]}" if len(v) >= 8 else ("*" * len(v))
