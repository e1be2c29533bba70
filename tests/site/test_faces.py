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
    api = {p.stem: json.loads(p.read_text()) for p in (folder / "api" / "datalabs").glob("*.json")}
    kinds = {key: e["face"]["kind"] for key, e in api.items()}
    # every example that is live ships an icon; the archived one keeps its thumbnail
    examples = {p.parent.name for p in (REPO / "datalabs").glob("*/datalab.yaml")}
    assert {key for key in examples if kinds[key] == "icon"} == examples - {"herschel-spire-photometry"}
    assert kinds["herschel-spire-photometry"] == "screenshot"
    herschel = api["herschel-spire-photometry"]["face"]["url"]
    assert "/media/thumb-" in herschel
    thumb = (folder / herschel).read_bytes()
    shot = (REPO / "datalabs" / "herschel-spire-photometry" / "screenshots" / "temperatures.png").read_bytes()
    assert thumb != shot and thumb[8:12] == b"WEBP"
    gaia = api["gaia-dr3-hrd"]["face"]["url"]
    assert (folder / gaia).read_bytes() == (REPO / "datalabs" / "gaia-dr3-hrd" / "icon.png").read_bytes()


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
        icon = page.query_selector(".sa-card[data-id='gaia-dr3-hrd'] img.sa-card__face--icon")
        assert icon and icon.evaluate("i => getComputedStyle(i).objectFit") == "contain"  # shown whole, not cropped


def test_a_datalab_without_icon_or_screenshot_shows_its_missions_mark(tmp_path):
    import shutil
    from dataclasses import replace

    from sciapps.config import load_config
    from sciapps.site.build import build_store

    lab = tmp_path / "datalabs" / "topcat-desktop"
    shutil.copytree(REPO / "datalabs" / "topcat-desktop", lab)
    (lab / "icon.png").unlink()
    metadata = lab / "datalab.yaml"
    metadata.write_text(metadata.read_text().replace("icon: icon.png\n", ""))
    config = replace(load_config(REPO / "sciapps.yaml"), path=tmp_path / "sciapps.yaml")
    report = build_store(config, [tmp_path / "datalabs"], tmp_path / "public", REPO / "mkdocs.yml", jobs=1)
    face = json.loads((report.out / "api" / "datalabs" / "topcat-desktop.json").read_text())["face"]
    assert face["kind"] == "mission" and face["url"].startswith("assets/marks/")
    mark = (report.out / face["url"]).read_text()
    assert mark.startswith("<svg") and "Gaia" in mark  # its first mission's mark, written by the store


def test_a_picture_changed_after_its_check_or_unreadable_makes_no_thumbnail(tmp_path):
    import hashlib

    from sciapps.site.faces import thumbnails

    shot = (REPO / "datalabs" / "herschel-spire-photometry" / "screenshots" / "temperatures.png").read_bytes()
    key = hashlib.sha256(shot).hexdigest()[:20]
    swapped = hashlib.sha256(b"checked").hexdigest()[:20]  # what was checked is not what is read now
    made = thumbnails({key: lambda: shot, swapped: lambda: shot, "0" * 20: lambda: None}, tmp_path, jobs=2)
    assert made == {key: str(tmp_path / f"{key}.webp")} and sorted(p.name for p in tmp_path.iterdir()) == [f"{key}.webp"]
