"""Every datalab has a face: its icon, else a thumbnail of its first screenshot (made at build
time and re-encoded, never the original bytes), else its mission's mark."""

from __future__ import annotations

import io
import json

from PIL import Image

from sciapps.site.faces import MAX_SOURCE_PIXELS, THUMBNAIL, make_thumbnail, mark_svg
from tests.conftest import REPO


def test_a_thumbnail_is_a_small_re_encoded_picture_never_the_original():
    original = (REPO / "datalabs" / "gaia-dr3-hrd" / "screenshots" / "hr_diagram.png").read_bytes()
    made = make_thumbnail(original)
    assert made is not None and made != original and made[:4] == b"RIFF" and made[8:12] == b"WEBP"
    with Image.open(io.BytesIO(made)) as picture:
        assert picture.width <= THUMBNAIL[0] and picture.height <= THUMBNAIL[1]


def test_what_is_not_a_picture_or_is_a_bomb_makes_no_thumbnail():
    assert make_thumbnail(b"<svg onload=alert(1)></svg>") is None
    assert make_thumbnail(b"\x89PNG\r\n\x1a\n" + b"\0" * 100) is None
    side = int(MAX_SOURCE_PIXELS**0.5) + 10
    bomb = io.BytesIO()
    Image.new("1", (side, side)).save(bomb, "PNG")  # tiny file, too many pixels
    assert len(bomb.getvalue()) < 2**20 and make_thumbnail(bomb.getvalue()) is None


def test_a_mission_mark_is_text_only():
    svg = mark_svg("<script>alert(1)</script>")
    assert "<script" not in svg and "&lt;script" in svg


def test_every_card_has_a_face(store):
    folder, _ = store
    index = json.loads((folder / "search" / "index.json").read_text())
    faces = [row[index["docs"]["columns"].index("face")] for row in index["docs"]["rows"]]
    assert faces and all(faces)
    for face in faces:
        assert (folder / face).is_file(), face
    gaia = json.loads((folder / "api" / "datalabs" / "gaia-dr3-hrd.json").read_text())
    assert gaia["face"]["kind"] == "screenshot" and "/media/thumb-" in gaia["face"]["url"]
    thumb = (folder / gaia["face"]["url"]).read_bytes()
    shot = (REPO / "datalabs" / "gaia-dr3-hrd" / "screenshots" / "hr_diagram.png").read_bytes()
    assert thumb != shot and thumb[8:12] == b"WEBP"


def test_every_card_shows_its_image_in_the_browser(page):
    for url, ready in (("", None), ("browse/", "body[data-search-ready='true']")):
        page.goto(url)
        if ready:
            page.wait_for_selector(ready)
        page.wait_for_load_state("load")
        cards = page.evaluate(
            """async () => Promise.all([...document.querySelectorAll('.sa-card')].map(async (c) => {
                 const img = c.querySelector('img.sa-card__face');
                 return !!img && (await fetch(img.src)).ok;
               }))"""
        )
        assert cards and all(cards), (url, cards)
