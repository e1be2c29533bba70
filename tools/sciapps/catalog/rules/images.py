"""Rules about the pictures a datalab shows in the store."""

from __future__ import annotations

import io
import threading
from typing import Iterator

from PIL import Image, UnidentifiedImageError

from sciapps.catalog.rules.base import Context, Finding, Rule
from sciapps.catalog.rules.files import FileTooLarge, MissingFile, PathOutsideDatalab, UnsafeLink
from sciapps.catalog.rules.schema import SCHEMA_RULES
from sciapps.safefiles import UnsafeFile

ALLOWED_FORMATS = {"PNG": "PNG", "JPEG": "JPEG", "WEBP": "WebP"}
# The names a picture of each format may have; the store publishes it under the first.
SUFFIXES = {"PNG": (".png",), "JPEG": (".jpg", ".jpeg"), "WEBP": (".webp",)}
MAX_PIXELS = 4096 * 4096


def _open(path) -> Image.Image:
    """Try the allowed formats first (fast); then every format Pillow knows, to name it."""
    try:
        return Image.open(path, formats=tuple(ALLOWED_FORMATS))
    except UnidentifiedImageError:
        return Image.open(path)


def image_problem(data: bytes) -> str | None:
    """Why these bytes are not an acceptable store picture, or None."""
    try:
        with _open(io.BytesIO(data)) as image:
            kind = image.format
            width, height = image.size
            if kind not in ALLOWED_FORMATS:
                return f"is a {kind} image; the store shows PNG, JPEG or WebP"
            if width * height > MAX_PIXELS:
                return f"is {width}x{height} pixels, more than 4096x4096"
            image.verify()
    except UnidentifiedImageError:
        return "is not an image (its content is not PNG, JPEG or WebP, whatever its name)"
    except Image.DecompressionBombError:
        return "declares an enormous size (a decompression bomb)"
    except (OSError, SyntaxError, ValueError) as exc:
        return f"is a damaged image ({exc})"
    return None


def picture_format(data: bytes) -> str | None:
    """ "PNG", "JPEG" or "WEBP" when `data` opens as one of them, else None."""
    try:
        with Image.open(io.BytesIO(data), formats=tuple(ALLOWED_FORMATS)) as image:
            return image.format
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return None


_last = threading.local()  # per thread, the pictures of the datalab it checked last: its picture rules read each once


def _pictures(lab) -> Iterator[tuple[tuple, str, str, bytes | None, str | None]]:
    """(JSON path, file, role, its bytes, why it cannot be read) of each screenshot and the icon."""
    if getattr(_last, "lab", None) is not lab:
        _last.lab, _last.files = lab, {}
    files = _last.files
    for path, relpath, role in lab.references():
        if role not in ("screenshot", "icon"):
            continue
        if relpath not in files:
            try:
                files[relpath] = (lab.read(relpath), None)
            except UnsafeFile as exc:
                files[relpath] = (None, f"cannot be read ({exc})")
        yield (path, relpath, role, *files[relpath])


class BadImage(Rule):
    """A screenshot or icon is not a real PNG, JPEG or WebP image

    The store shows screenshots and the icon to every visitor, so they are opened and
    checked here: the content (not the file name) must be PNG, JPEG or WebP, undamaged,
    at most 4096x4096 pixels. SVG is refused because it can carry scripts.
    """

    id = "DL-041"
    requires = (*SCHEMA_RULES, PathOutsideDatalab, MissingFile, UnsafeLink, FileTooLarge)
    hint = "export the picture as PNG (screenshots) or a square PNG (icon)"

    def check(self, lab, ctx: Context) -> Iterator[Finding]:
        for path, relpath, role, data, unreadable in _pictures(lab):
            problem = unreadable or image_problem(data)
            if problem:
                yield self.finding(lab, f"{role} {relpath!r} {problem}", path=path)


class PictureNameMismatch(Rule):
    """A screenshot's or icon's file name does not match its content

    A picture is named for what it is: `.png` for PNG, `.jpg` or `.jpeg` for JPEG, `.webp`
    for WebP. A PNG named `shot.html` could be served as a page by a web server that goes
    by the name; the store publishes pictures under names it derives from their content,
    and refuses names that say otherwise.
    """

    id = "DL-042"
    requires = (BadImage,)
    hint = "rename the file to match its content: .png, .jpg or .webp (and update datalab.yaml)"

    def check(self, lab, ctx: Context) -> Iterator[Finding]:
        for path, relpath, role, data, unreadable in _pictures(lab):
            if unreadable:
                continue  # BadImage reports it
            kind = picture_format(data)
            suffix = "." + relpath.rsplit(".", 1)[-1].lower() if "." in relpath.rsplit("/", 1)[-1] else ""
            if kind and suffix not in SUFFIXES[kind]:
                yield self.finding(
                    lab,
                    f"{role} {relpath!r} is a {ALLOWED_FORMATS[kind]} image but is not named {' or '.join(SUFFIXES[kind])}",
                    path=path,
                )
