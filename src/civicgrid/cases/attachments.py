"""Photo uploads: validated as real images with Pillow, stored once per content (sha256 path), with a thumbnail.

``store_upload`` is shared with the intake app. It must run inside the caller's transaction or on its own; the
file is written first (content-addressed, so a rolled-back row leaves only a harmless, reusable file).

``file_response`` answers with a photo the caller has already been allowed to see (the web UI's
``/cases/photos/<id>/`` and the API's ``/api/v1/cases/attachments/<id>/file``): streamed from local disk, or a
redirect to a short-lived presigned URL when the files live in object storage (S3).
"""

from __future__ import annotations

import hashlib
import io
import mimetypes

from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage
from django.http import FileResponse, HttpResponse, HttpResponseRedirect

from civicgrid.cases.errors import CaseErrorCode
from civicgrid.cases.models import Attachment, AttachmentKind
from civicgrid.core.errors import NotFound, ValidationFailed
from civicgrid.core.images import open_bounded

MAX_BYTES = 10 * 1024 * 1024
MAX_PHOTOS_PER_MOVE = 6  # photos uploaded with one move (as on the web forms)
THUMB_SIZE = (320, 320)
PRESIGNED_SECONDS = 300  # how long a redirect to object storage stays valid
FORMATS = {
    "JPEG": ("image/jpeg", ".jpg"),
    "MPO": ("image/jpeg", ".jpg"),  # multi-picture JPEG written by some phones
    "PNG": ("image/png", ".png"),
    "WEBP": ("image/webp", ".webp"),
}


def _read(file) -> tuple[bytes, str]:
    """Accept an UploadedFile/File, a ``(name, bytes[, content_type])`` tuple, or raw bytes."""
    if isinstance(file, bytes | bytearray):
        return bytes(file), ""
    if isinstance(file, tuple):
        return bytes(file[1]), str(file[0])
    name = getattr(file, "name", "") or ""
    if hasattr(file, "seek"):
        file.seek(0)
    if hasattr(file, "chunks"):
        data = b"".join(file.chunks())
    else:
        data = file.read()
    return data, name


def _path(sha: str, ext: str, prefix: str = "cases") -> str:
    return f"{prefix}/{sha[:2]}/{sha[2:4]}/{sha}{ext}"


def _save_once(path: str, data: bytes) -> str:
    if not default_storage.exists(path):
        return default_storage.save(path, ContentFile(data))
    return path


def store_upload(*, file, kind: str = AttachmentKind.OTHER, actor=None, case=None, event=None) -> Attachment:
    """Validate ``file`` as a JPEG/PNG/WebP image, store it and a thumbnail, and return the saved row."""
    if kind not in AttachmentKind.values:
        raise ValidationFailed(f"未知附件类型：{kind}", field="kind", code=CaseErrorCode.INVALID_INPUT)
    data, name = _read(file)
    if not data:
        raise ValidationFailed("上传的文件为空", field="attachments", code=CaseErrorCode.ATTACHMENT_INVALID)
    if len(data) > MAX_BYTES:
        raise ValidationFailed(
            f"照片「{(name or '未命名')[:60]}」超过 {MAX_BYTES // 1024 // 1024} MB，请压缩后再传",
            field="attachments",
            code=CaseErrorCode.ATTACHMENT_INVALID,
        )
    label = f"照片「{(name or '未命名').rsplit('/', 1)[-1][:60]}」"
    not_image = ValidationFailed(f"{label}不是有效的图片（仅支持 JPEG/PNG/WebP）", field="attachments")
    img, fmt, (width, height) = open_bounded(
        data, label=label, field="attachments", target=max(THUMB_SIZE), not_image=not_image
    )
    if fmt not in FORMATS:
        raise ValidationFailed(
            f"{label}格式不受支持：{fmt}（仅支持 JPEG/PNG/WebP）",
            field="attachments",
            code=CaseErrorCode.ATTACHMENT_INVALID,
        )
    content_type, ext = FORMATS[fmt]
    sha = hashlib.sha256(data).hexdigest()
    path = _save_once(_path(sha, ext), data)

    thumb = img.convert("RGB") if img.mode not in ("RGB", "L") else img.copy()
    thumb.thumbnail(THUMB_SIZE)
    buf = io.BytesIO()
    thumb.save(buf, "JPEG", quality=80)
    thumb_path = _save_once(_path(sha, ".jpg", prefix="cases/thumbs"), buf.getvalue())

    return Attachment.objects.create(
        case=case,
        event=event,
        kind=kind,
        file=path,
        thumbnail=thumb_path,
        original_name=(name or "")[:200],
        content_type=content_type,
        size=len(data),
        sha256=sha,
        width=width,
        height=height,
        uploaded_by=actor if getattr(actor, "is_authenticated", False) else None,
    )


# --- serving ----------------------------------------------------------------------------------------


def _is_local(storage) -> bool:
    """Files on this server's disk (streamed by us); any other backend (S3) signs its own short-lived URLs."""
    return isinstance(storage, FileSystemStorage)


def file_response(att: Attachment, *, thumb: bool = False, redirect_remote: bool = True) -> HttpResponse:
    """The photo (or its thumbnail) of ``att``, which the caller has checked the user may see. Local disk: the
    bytes, with the stored content type. Object storage: a 302 to a presigned URL valid for
    :data:`PRESIGNED_SECONDS` (never cached), or with ``redirect_remote=False`` the bytes streamed through this
    server (the web pages' ``<img>``, which stay on this origin). Raises :class:`NotFound` when the file is
    missing."""
    use_thumb = thumb and bool(att.thumbnail)
    name = att.thumbnail.name if use_thumb else att.file.name
    content_type = "image/jpeg" if use_thumb else (att.content_type or mimetypes.guess_type(name or "")[0])
    storage = default_storage
    if not name:
        raise NotFound("图片文件不存在", code=CaseErrorCode.NOT_FOUND)
    if redirect_remote and not _is_local(storage):
        try:
            url = storage.url(
                name, parameters={"ResponseContentType": content_type}, expire=PRESIGNED_SECONDS
            )
        except TypeError:  # a storage whose url() takes only the name
            url = storage.url(name)
        response = HttpResponseRedirect(url)
        response["Cache-Control"] = "private, no-store"
        return response
    if not storage.exists(name):
        raise NotFound("图片文件不存在", code=CaseErrorCode.NOT_FOUND)
    response = FileResponse(storage.open(name, "rb"), content_type=content_type)
    response["Cache-Control"] = "private, max-age=86400"
    return response
