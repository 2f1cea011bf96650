"""Opening uploaded images in bounded memory (decompression bombs).

A PNG of 6300×6300 plain pixels is 20 KB on disk and 160 MB once decoded, and every conversion after that
copies it again. Pillow opens lazily, so the size is read from the header first and checked before a single
pixel is decoded:

* at most :data:`MAX_PIXELS` pixels in the header, for any format (``Image.MAX_IMAGE_PIXELS`` is set to the
  same value and Pillow's ``DecompressionBombWarning`` is treated as an error);
* JPEGs are decoded at a reduced scale with ``draft()`` (1/2, 1/4 or 1/8, done by libjpeg itself), just large
  enough for what the caller needs;
* formats that cannot be decoded reduced (PNG, WebP) must fit :data:`MAX_DECODE_PIXELS`, and are shrunk with
  ``reduce()`` right after decoding so that later conversions work on a small copy;
* at most :data:`DECODE_SLOTS` images are decoded at once per process.

Errors are :class:`~civicgrid.core.errors.ValidationFailed` with a Chinese message naming the photo.
"""

from __future__ import annotations

import io
import threading
import warnings
from contextlib import contextmanager

from PIL import Image, UnidentifiedImageError

from civicgrid.core.errors import ValidationFailed

MAX_PIXELS = 40_000_000  # in the header, any format (a 48 MP phone JPEG must be resized first)
MAX_DECODE_PIXELS = 16_000_000  # actually decoded: PNG/WebP as is, JPEG after draft()
DECODE_SLOTS = 2
# Pillow's own bomb check: a warning above this, an error above twice this
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
# MPO (multi-picture JPEG from some phones) is opened by the JPEG plugin
OPEN_FORMATS = ("JPEG", "PNG", "WEBP")
_DRAFTABLE = {"JPEG", "MPO"}
_REDUCIBLE = {"L", "LA", "RGB", "RGBA", "I", "F", "CMYK"}
_slots = threading.BoundedSemaphore(DECODE_SLOTS)


@contextmanager
def decode_slot():
    """At most :data:`DECODE_SLOTS` decodes at a time in this process (threaded servers)."""
    with _slots:
        yield


def _too_large(label: str, field: str, width: int, height: int, limit: int, hint: str) -> ValidationFailed:
    return ValidationFailed(
        f"{label}尺寸过大（{width}×{height} 像素，最多 {limit // 10_000} 万像素），{hint}", field=field
    )


def open_bounded(
    data: bytes,
    *,
    label: str,
    field: str,
    target: int,
    not_image: ValidationFailed,
) -> tuple[Image.Image, str, tuple[int, int]]:
    """Decode ``data`` (JPEG/PNG/WebP) into an image whose longer edge is at least ``target`` px when the
    original is at least that big, in bounded memory. Returns ``(image, format, original_size)``.

    ``label`` names the photo in errors (e.g. ``照片：第 1 张（a.png）``); ``not_image`` is raised for anything
    that is not a readable JPEG/PNG/WebP.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            try:
                with Image.open(io.BytesIO(data), formats=OPEN_FORMATS) as probe:
                    _check_header(probe.size, label=label, field=field)
                    probe.verify()
                img = Image.open(io.BytesIO(data), formats=OPEN_FORMATS)
            except (Image.DecompressionBombWarning, Image.DecompressionBombError):
                raise ValidationFailed(
                    f"{label}尺寸过大（超过 {MAX_PIXELS // 10_000} 万像素），请缩小后再传", field=field
                )
            original, fmt = img.size, img.format
            _check_header(original, label=label, field=field)
            if img.format in _DRAFTABLE:
                img.draft(None, _fit(original, target))
            width, height = img.size
            if width * height > MAX_DECODE_PIXELS:
                raise _too_large(
                    label, field, *original, MAX_DECODE_PIXELS, "PNG/WebP 图片请缩小或转为 JPG 后再传"
                )
            with decode_slot():
                img.load()
                factor = max(width, height) // max(target, 1)
                if factor >= 2 and img.format not in _DRAFTABLE:
                    # shrink now: the caller's conversions then copy a small image, not the full decode
                    if img.mode not in _REDUCIBLE:
                        img = img.convert("RGBA")
                    img = img.reduce(factor)
    except ValidationFailed:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError):
        raise not_image
    return img, fmt, original


def _check_header(size: tuple[int, int], *, label: str, field: str) -> None:
    width, height = size
    if width <= 0 or height <= 0:
        raise ValidationFailed(f"{label}尺寸无效（{width}×{height}）", field=field)
    if width * height > MAX_PIXELS:
        raise _too_large(label, field, width, height, MAX_PIXELS, "请缩小后再传")


def _fit(size: tuple[int, int], target: int) -> tuple[int, int]:
    """The box ``size`` shrinks to when its longer edge becomes ``target`` (the ``draft()`` request)."""
    width, height = size
    longer = max(width, height)
    if longer <= target:
        return size
    return max(1, width * target // longer), max(1, height * target // longer)
