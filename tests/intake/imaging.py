"""Test images made with Pillow: plain JPEGs and JPEGs carrying EXIF (GPS, camera make, orientation)."""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from PIL.TiffImagePlugin import IFDRational

GPS_IFD = 0x8825


def _dms(value: float) -> tuple:
    value = abs(value)
    d = int(value)
    m = int((value - d) * 60)
    s = (value - d - m / 60) * 3600
    return (IFDRational(d, 1), IFDRational(m, 1), IFDRational(round(s * 10000), 10000))


def exif_with_gps(
    lng: float, lat: float, *, make: str = "TestPhone", orientation: int | None = None
) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = make  # Make
    exif[0x0110] = "Model X"  # Model
    if orientation:
        exif[0x0112] = orientation
    gps = exif.get_ifd(GPS_IFD)
    gps[1] = "N" if lat >= 0 else "S"
    gps[2] = _dms(lat)
    gps[3] = "E" if lng >= 0 else "W"
    gps[4] = _dms(lng)
    return exif


def jpeg_bytes(size=(64, 48), color=(180, 60, 40), exif: Image.Exif | None = None) -> bytes:
    buf = io.BytesIO()
    img = Image.new("RGB", size, color)
    if exif is not None:
        img.save(buf, "JPEG", quality=90, exif=exif.tobytes())
    else:
        img.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def jpeg_upload(name="photo.jpg", **kw) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, jpeg_bytes(**kw), content_type="image/jpeg")


def gps_jpeg_upload(lng: float, lat: float, name="gps.jpg", **kw) -> SimpleUploadedFile:
    exif = exif_with_gps(lng, lat, orientation=kw.pop("orientation", None))
    return SimpleUploadedFile(name, jpeg_bytes(exif=exif, **kw), content_type="image/jpeg")


def fake_jpeg_upload(name="not-a-photo.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"<?php echo 'hello'; ?>" * 50, content_type="image/jpeg")
