"""Every datalab has a face on its card and page: its icon, else a thumbnail of its first
screenshot, else its mission's mark.

Thumbnails are made at build time from the checked picture, bounded (pixels and bytes) and
re-encoded by Pillow: the store never publishes a thumbnail's original bytes. They are kept
in a content-addressed folder (`build/thumbnails/<sha256 of the source, 20 digits>.webp`), so a
rebuild makes only the new ones. Mission marks are small SVG files the store writes itself,
from the missions vocabulary, never from a datalab.
"""

from __future__ import annotations

import hashlib
import html
import io
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

from sciapps.text import xml_text

THUMBNAIL = (384, 240)  # the card's picture, at most
MAX_SOURCE_PIXELS = 40_000_000  # a picture larger than this is not decoded (a decompression bomb)
MARKS = "assets/marks"


def make_thumbnail(data: bytes) -> bytes | None:
    """A WebP of at most THUMBNAIL, decoded and encoded again, or None when `data` is not a
    picture Pillow reads within the bounds."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as picture:
            if picture.width * picture.height > MAX_SOURCE_PIXELS:
                return None
            picture.draft("RGB", THUMBNAIL)  # JPEG: decode at a smaller scale
            small = picture.convert("RGB")
            small.thumbnail(THUMBNAIL)
            out = io.BytesIO()
            small.save(out, "WEBP", quality=80, method=4)
            return out.getvalue()
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None


def thumbnails(sources: dict[str, Callable[[], bytes | None]], cache: Path, jobs: int = 8) -> dict[str, str]:
    """Make `cache/<key>.webp` for each source picture that makes one (`key`: the first 20 hex
    digits of its sha256, as the store's media names have it); {key: path}. Each source is read
    (its callable, None when unreadable) only when its thumbnail is made, so at most `jobs`
    pictures are in memory at once, however many datalabs there are."""
    cache.mkdir(parents=True, exist_ok=True)

    def one(item):
        key, read = item
        target = cache / f"{key}.webp"
        if not target.is_file():
            data = read()
            if data is None or hashlib.sha256(data).hexdigest()[:20] != key:  # changed since it was checked
                return key, None
            made = make_thumbnail(data)
            if made is None:
                return key, None
            temporary = target.with_suffix(".tmp" + str(id(data)))
            temporary.write_bytes(made)
            temporary.replace(target)
        return key, str(target)

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return {key: path for key, path in pool.map(one, sources.items()) if path}


def mark_svg(name: str) -> str:
    """A mission's mark: its short name on the store's colour (text escaped; no script)."""
    label = name if len(name) <= 8 else re.split(r"[-\s]", name)[0][:8]
    text = html.escape(xml_text(label))
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="384" height="240" viewBox="0 0 384 240" role="img">'
        '<rect width="384" height="240" fill="#003247"/>'
        '<text x="192" y="138" fill="#ffffff" font-family="Verdana,DejaVu Sans,sans-serif" font-size="56" '
        f'text-anchor="middle">{text}</text></svg>\n'
    )


def mark_url(missions: list[dict]) -> str:
    return f"{MARKS}/{missions[0]['id'] if missions else '_any'}.svg"
