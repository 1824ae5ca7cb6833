"""Uploaded files: the name shown, the type read from the content, the hash, the storage."""

from __future__ import annotations

import hashlib
import re
import unicodedata
import uuid

import filetype
from django.conf import settings
from django.core.files.storage import storages

STORAGE_ALIAS = "evidence"
# Types a browser may be told; everything else is sent as application/octet-stream.
# Downloads are attachments with nosniff either way, so nothing uploaded renders in
# Tollgate's origin.
SENT_AS_DETECTED = {
    "application/pdf",
    "application/zip",
    "application/gzip",
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "text/plain",
}
HEAD_BYTES = 8192
NAME_MAX_LENGTH = 150
_UNSAFE_NAME_CHARACTERS = re.compile(r'[<>:"/\\|?*`$;&{}\[\]%=]')
_MARKUP = re.compile(rb"<\s*(!doctype\s+html|html|svg|script|body|head|iframe|\?xml)", re.I)


def storage():
    return storages[STORAGE_ALIAS]


def max_upload_bytes() -> int:
    return settings.TOLLGATE_UPLOAD_MAX_MB * 1024 * 1024


def declared_too_large(request) -> bool:
    """An upload over the limit, told from Content-Length before the body is read.

    The allowance covers the multipart envelope and the other form fields.
    """
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return length > max_upload_bytes() + 64 * 1024


def too_large_message() -> str:
    return f"Files may be at most {settings.TOLLGATE_UPLOAD_MAX_MB} MB."


def safe_name(name: str) -> str:
    """A file name fit to show and to offer on download: no path, no markup, no control codes."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = _UNSAFE_NAME_CHARACTERS.sub("_", name)
    name = re.sub(r"\s+", " ", name).strip(" .")
    if len(name) > NAME_MAX_LENGTH:
        stem, dot, extension = name.rpartition(".")
        if dot and 0 < len(extension) <= 10:
            name = f"{stem[: NAME_MAX_LENGTH - len(extension) - 1]}.{extension}"
        else:
            name = name[:NAME_MAX_LENGTH]
    return name or "file"


def detect_type(head: bytes) -> str:
    """The MIME type read from the first bytes, never from the name."""
    kind = filetype.guess(head)
    if kind is not None:
        return kind.mime
    if _MARKUP.search(head[:2048]):
        # Markup that a browser would run: labelled as what it is, sent as bytes.
        return "text/html"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        # A multi-byte character cut at the end of the sample is still text.
        try:
            head[:-3].decode("utf-8")
        except UnicodeDecodeError:
            return "application/octet-stream"
    return "text/plain"


def sent_content_type(content_type: str) -> str:
    return content_type if content_type in SENT_AS_DETECTED else "application/octet-stream"


def storage_key_for(initiative_id: int) -> str:
    return f"evidence/{initiative_id}/{uuid.uuid4().hex}"


def hash_and_head(uploaded) -> tuple[str, bytes, int]:
    """(SHA-256 hex, the first bytes, size) of an uploaded file, read in chunks."""
    digest = hashlib.sha256()
    head = b""
    size = 0
    uploaded.seek(0)
    for chunk in uploaded.chunks():
        if len(head) < HEAD_BYTES:
            head += chunk[: HEAD_BYTES - len(head)]
        digest.update(chunk)
        size += len(chunk)
    uploaded.seek(0)
    return digest.hexdigest(), head, size


def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB"
