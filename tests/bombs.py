"""Hostile inputs that are small on disk and huge once unpacked, and a peak-memory probe for them.

``png_bomb(6300, 6300)`` is a valid ~20 KB PNG that decodes to 160 MB of RGBA; ``zip_bomb`` a zip whose
members inflate to hundreds of MB. ``PeakRss`` samples this process's resident memory in a thread and reports
the highest growth seen while its block ran (Pillow's pixel buffers are allocated outside Python's allocator,
so tracemalloc does not see them).
"""

from __future__ import annotations

import functools
import io
import struct
import threading
import zipfile
import zlib

import psutil


def _chunk(kind: bytes, body: bytes) -> bytes:
    return (
        struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    )


@functools.cache
def png_bomb(width: int = 6300, height: int = 6300) -> bytes:
    """An RGBA PNG of ``width``×``height`` transparent pixels, compressed to a few dozen KB."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA
    comp = zlib.compressobj(9)
    row = b"\x00" * (1 + 4 * width)  # filter byte + pixels
    idat = b"".join(comp.compress(row) for _ in range(height)) + comp.flush()
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def zip_bomb(
    members: dict[str, int], *, filler: bytes = b"\x00", extra: dict[str, bytes] | None = None
) -> bytes:
    """A zip whose member ``name`` inflates to ``size`` bytes of ``filler`` (streamed, never held whole)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
        block = filler * (1024 * 1024 // len(filler))
        for name, size in members.items():
            with zf.open(name, "w", force_zip64=True) as fh:
                left = size
                while left > 0:
                    fh.write(block[: min(left, len(block))])
                    left -= len(block)
    return buf.getvalue()


class PeakRss:
    """``with PeakRss() as m: ...`` then ``m.growth_mb``: the peak RSS growth over the block, in MB."""

    def __init__(self, interval: float = 0.002):
        self.interval = interval
        self._proc = psutil.Process()
        self._stop = threading.Event()

    def _sample(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self._proc.memory_info().rss)
            self._stop.wait(self.interval)

    def __enter__(self):
        self.base = self.peak = self._proc.memory_info().rss
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._proc.memory_info().rss)

    @property
    def growth_mb(self) -> float:
        return (self.peak - self.base) / 1024 / 1024
