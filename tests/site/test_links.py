"""No link in the built store leads to a 404: every href and src of every page, resolved as
a browser would, names a file of the build (an archived datalab's mission, the 404 page's
ways on, the assets)."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import PurePosixPath
from urllib.parse import unquote, urljoin, urlsplit

SITE = "https://store.invalid/"


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("href", "src") and value:
                self.found.append(value)


def _target(folder, page_url: str, link: str):
    """The file a link names, or None for one that leaves the store (another site, mail)."""
    url = urljoin(page_url, link)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or parts.netloc != urlsplit(SITE).netloc:
        return None
    path = unquote(parts.path).lstrip("/")
    return folder / PurePosixPath(path or ".") / ("index.html" if path.endswith("/") or not path else "")


def test_no_link_in_the_built_store_leads_to_a_404(store):
    folder, _ = store
    broken, checked = [], 0
    for page in sorted(folder.rglob("*.html")):
        rel = page.relative_to(folder).as_posix()
        base = "" if rel == "404.html" else rel.removesuffix("index.html")  # the 404 page links from the root
        parser = _Links()
        parser.feed(page.read_text(encoding="utf-8"))
        for link in parser.found:
            if link.startswith(("#", "mailto:", "data:")):
                continue
            target = _target(folder, SITE + base, link)
            if target is None:
                continue
            checked += 1
            if not (target.is_file() or (target / "index.html").is_file()):
                broken.append(f"{rel}: {link}")
    assert checked > 500
    assert broken == [], broken[:20]


def test_every_page_has_a_skip_link_to_its_content(store):
    folder, _ = store
    for page in [
        folder / "index.html",
        folder / "browse" / "index.html",
        folder / "404.html",
        folder / "datalabs" / "gaia-dr3-hrd" / "index.html",
        folder / "missions" / "herschel" / "index.html",
    ]:
        text = page.read_text(encoding="utf-8")
        assert '<a href="#sa-content" class="md-skip">Skip to content</a>' in text and 'id="sa-content"' in text, page


def test_an_archived_datalabs_mission_has_a_page_that_says_what_data_it_has(store):
    folder, _ = store
    herschel = (folder / "missions" / "herschel" / "index.html").read_text(encoding="utf-8")
    assert "0 datalabs work with Herschel data, and 1 archived." in herschel and "herschel-spire-photometry" in herschel
    xmm = (folder / "missions" / "xmm-newton" / "index.html").read_text(encoding="utf-8")
    assert "<code>xmm_pps</code>" in xmm and "XMM-Newton observation id" in xmm and "open/?mission=xmm-newton&amp;obsid=" in xmm
    assert "<code>/data/xmm/pps</code>" in xmm


def test_the_404_page_offers_a_search_and_ways_on(store):
    folder, _ = store
    page = (folder / "404.html").read_text(encoding="utf-8")
    assert 'role="search"' in page and "Browse every datalab" in page and "Datalabs by mission" in page
