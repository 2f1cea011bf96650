"""Photos from phones: decoded for real with Pillow, GPS read from EXIF, then re-encoded without any metadata.

Every photo that reaches :func:`civicgrid.cases.attachments.store_upload` from the 随手拍 or the field report has
been through :func:`clean_photo`: the original bytes (with EXIF: GPS, device, time) are never stored.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageOps

from civicgrid.core.errors import ValidationFailed
from civicgrid.core.images import open_bounded

MAX_PHOTOS = 4
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_EDGE = 1600
MAX_EXIF_BYTES = 128 * 1024
# MPO is the multi-picture JPEG some phones write
ACCEPTED_FORMATS = {"JPEG", "MPO", "PNG", "WEBP"}
GPS_IFD = 0x8825


@dataclass(frozen=True)
class CleanPhoto:
    name: str
    data: bytes  # JPEG, no metadata
    width: int
    height: int
    gps: tuple[float, float] | None  # (lng, lat) from the original's EXIF

    def as_upload(self) -> SimpleUploadedFile:
        return SimpleUploadedFile(self.name, self.data, content_type="image/jpeg")


def _ratio(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        if isinstance(value, tuple) and len(value) == 2 and value[1]:
            return value[0] / value[1]
        raise


def gps_from_exif(exif: Image.Exif | None) -> tuple[float, float] | None:
    """(lng, lat) in degrees from an EXIF block's GPS IFD, or None when absent, partial or nonsense."""
    if exif is None:
        return None
    try:
        gps = exif.get_ifd(GPS_IFD)
    except Exception:
        return None
    if not gps:
        return None
    try:
        lat_ref, lat, lng_ref, lng = gps.get(1), gps.get(2), gps.get(3), gps.get(4)
        if not (lat and lng):
            return None

        def degrees(dms) -> float:
            parts = [_ratio(v) for v in dms]
            parts += [0.0] * (3 - len(parts))
            return parts[0] + parts[1] / 60 + parts[2] / 3600

        lat_v, lng_v = degrees(lat), degrees(lng)
    except Exception:
        return None
    if isinstance(lat_ref, bytes):
        lat_ref = lat_ref.decode(errors="ignore")
    if isinstance(lng_ref, bytes):
        lng_ref = lng_ref.decode(errors="ignore")
    if str(lat_ref or "N").strip().upper().startswith("S"):
        lat_v = -lat_v
    if str(lng_ref or "E").strip().upper().startswith("W"):
        lng_v = -lng_v
    if not (-90 <= lat_v <= 90 and -180 <= lng_v <= 180) or (lat_v == 0 and lng_v == 0):
        return None
    return round(lng_v, 7), round(lat_v, 7)


def gps_from_exif_bytes(data: bytes) -> tuple[float, float] | None:
    """GPS from a raw EXIF segment (``Exif\\0\\0`` + TIFF), as the 随手拍 page sends it for resized photos."""
    if not data or len(data) > MAX_EXIF_BYTES:
        return None
    exif = Image.Exif()
    try:
        exif.load(bytes(data))
    except Exception:
        return None
    return gps_from_exif(exif)


def _read_upload(upload) -> bytes:
    if hasattr(upload, "seek"):
        upload.seek(0)
    if hasattr(upload, "chunks"):
        return b"".join(upload.chunks())
    return upload.read()


def clean_photo(upload, *, index: int = 1, field: str = "photos") -> CleanPhoto:
    """Check that ``upload`` really is a photo (≤ 10 MB), read its GPS, return it upright, ≤ 1600 px, as a
    metadata-free JPEG. Raises :class:`ValidationFailed` naming the field and the photo."""
    raw_name = (getattr(upload, "name", "") or f"照片{index}").rsplit("/", 1)[-1]
    label = f"照片：第 {index} 张（{raw_name[:40]}）"
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_PHOTO_BYTES:
        raise ValidationFailed(f"{label}超过 10 MB，请换一张或压缩后再传", field=field)
    data = _read_upload(upload)
    if not data:
        raise ValidationFailed(f"{label}是空文件", field=field)
    if len(data) > MAX_PHOTO_BYTES:
        raise ValidationFailed(f"{label}超过 10 MB，请换一张或压缩后再传", field=field)
    not_image = ValidationFailed(f"{label}不是有效的图片，请上传 JPG、PNG 或 WebP 格式的照片", field=field)
    img, fmt, _ = open_bounded(data, label=label, field=field, target=MAX_EDGE, not_image=not_image)
    if fmt not in ACCEPTED_FORMATS:
        raise not_image
    try:
        exif = img.getexif()
    except Exception:
        exif = None
    gps = gps_from_exif(exif)
    img = ImageOps.exif_transpose(img)  # keep the picture upright once the orientation tag is gone
    if img.mode in ("RGBA", "LA", "P", "PA"):
        img = img.convert("RGBA")
        background = Image.new("RGB", img.size, (255, 255, 255))
        background.paste(img, mask=img.getchannel("A"))
        img = background
    elif img.mode != "RGB":
        img = img.convert("RGB")
    img.thumbnail((MAX_EDGE, MAX_EDGE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    # no exif=, no icc_profile=: the re-encoded JPEG carries no metadata at all
    img.save(out, "JPEG", quality=85, optimize=True)
    stem = raw_name.rsplit(".", 1)[0][:60] or f"photo{index}"
    return CleanPhoto(name=f"{stem}.jpg", data=out.getvalue(), width=img.width, height=img.height, gps=gps)


def clean_photos(uploads, *, field: str = "photos") -> list[CleanPhoto]:
    uploads = [u for u in uploads if u is not None]
    if len(uploads) > MAX_PHOTOS:
        raise ValidationFailed(f"照片：最多上传 {MAX_PHOTOS} 张，您选择了 {len(uploads)} 张", field=field)
    return [clean_photo(u, index=i, field=field) for i, u in enumerate(uploads, start=1)]
