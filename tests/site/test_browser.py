"""The store in a real browser: Debian's Chromium driven by Playwright.

Skipped on a laptop without Chromium; never in CI (CI=true makes a missing browser fail).
Screenshots of each page type go to build/test-artifacts/.
"""

from __future__ import annotations

import hashlib

import json
from pathlib import Path

import pytest

from tests.conftest import GAIA, REPO, XMM
from tests.site.conftest import SIZES

ARTIFACTS = REPO / "build" / "test-artifacts"


def open_browse(page, query=""):
    page.goto("browse/" + (f"?{query}" if query else ""))
    page.wait_for_selector("body[data-search-ready='true']")


def result_ids(page) -> list[str]:
    return page.eval_on_selector_all(".sa-results .sa-card", "cards => cards.map(c => c.dataset.id)")


def search(page, text):
    page.fill("#sa-q", text)
    page.wait_for_function("q => document.querySelector('.sa-results__status').textContent.includes(q) || !q", arg=text.strip())


@pytest.mark.parametrize(
    "query,first",
    [
        ("spectrum fit", "xmm-epic-spectrum-fit"),
        ("hertzsprung", "gaia-dr3-hrd"),
        ("healp", "planck-cmb-map-viewer"),  # prefix of a keyword
        ("Euclid redshifts", "euclid-q1-photoz"),
        ("nircam sources", "jwst-nircam-image-explorer"),
        ("votable", "topcat-desktop"),
    ],
)
def test_search_finds_the_right_datalab(page, query, first):
    open_browse(page)
    search(page, query)
    assert result_ids(page)[0] == first


def test_search_that_matches_nothing(page):
    open_browse(page)
    search(page, "zzzqqq")
    assert result_ids(page) == []
    assert page.text_content(".sa-results__status") == "0 datalabs match “zzzqqq”"
    ways = page.text_content(".sa-noresults")
    assert "Browse all datalabs" in ways and "Create a datalab for it" in ways and "archived" not in ways


def test_no_result_offers_the_archived_matches(page):
    open_browse(page)
    search(page, "spire")
    assert result_ids(page) == [] and "Show 1 archived datalab that matches" in page.text_content(".sa-noresults")
    ways = page.locator(".sa-noresults__ways li").all_inner_texts()
    assert ways == ["Show 1 archived datalab that matches", "Browse all datalabs", "Create a datalab for it"]
    assert page.get_attribute(".sa-noresults a:text('Create a datalab for it')", "href").endswith("/create/")
    page.click(".sa-noresults button")
    page.wait_for_selector(".sa-results .sa-card")
    assert result_ids(page) == ["herschel-spire-photometry"]


def test_no_result_with_filters_offers_to_clear_them(page):
    open_browse(page, "mission=planck")
    search(page, "EPIC")  # XMM-Newton EPIC spectrum fit matches the words, not the filter
    assert result_ids(page) == [] and "Nothing matches with these filters." in page.text_content(".sa-noresults")
    page.click(".sa-noresults button:text('Clear the filters')")
    page.wait_for_selector(".sa-results .sa-card")
    assert "xmm-epic-spectrum-fit" in result_ids(page)


def test_ids_are_searched_in_their_parts(page):
    open_browse(page)
    search(page, "HRD")
    assert result_ids(page)[0] == "gaia-dr3-hrd"


def test_facets_narrow_results_and_combine_with_the_query(page):
    open_browse(page)
    page.check("input[data-facet='mission'][value='gaia']")
    assert sorted(result_ids(page)) == ["gaia-dr3-hrd", "topcat-desktop", "xss-attempt"]
    page.check("input[data-facet='type'][value='vnc']")
    assert result_ids(page) == ["topcat-desktop"]
    assert "type=vnc" in page.url and "mission=gaia" in page.url
    page.uncheck("input[data-facet='type'][value='vnc']")
    search(page, "diagram")
    assert result_ids(page) == ["gaia-dr3-hrd"]
    open_browse(page, "mission=planck")  # a facet in the URL, as mission pages link it
    assert result_ids(page) == ["planck-cmb-map-viewer"]


def test_archived_are_hidden_until_toggled(page):
    open_browse(page)
    assert "herschel-spire-photometry" not in result_ids(page)
    search(page, "SPIRE")
    assert result_ids(page) == []
    page.check("#sa-archived")
    assert result_ids(page) == ["herschel-spire-photometry"]
    assert page.is_visible(".sa-card[data-id='herschel-spire-photometry'] .sa-chip--archived")


def test_keyboard_search_from_the_home_page(page):
    page.goto("")
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "sa-q"
    page.keyboard.type("planck")
    page.keyboard.press("Enter")
    page.wait_for_selector("body[data-search-ready='true']")
    assert result_ids(page)[0] == "planck-cmb-map-viewer"
    page.focus("#sa-q")
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.closest('.sa-card').dataset.id") == "planck-cmb-map-viewer"
    page.keyboard.press("Enter")
    page.wait_for_url("**/datalabs/planck-cmb-map-viewer/")


def test_every_launch_of_a_datalab_with_parameters_goes_through_a_review(any_size_page):
    """The header's button leads to the form, a version's link and the one badge to the
    store's launch page; only the launch page's last button is the configured URL."""
    page = any_size_page
    page.goto("datalabs/xmm-epic-spectrum-fit/")
    digest = "sha256%3A" + hashlib.sha256(f"xmm-epic-spectrum-fit {XMM} 1".encode()).hexdigest()  # tests/releases/records.py
    assert page.get_attribute("a.sa-launch", "href") == "#sa-launch-with"
    assert page.query_selector("a[href^='https://datalabs.esa.int/launch']") is None  # nothing starts from this page
    badges = page.query_selector_all("img[alt='Launch in ESA Datalabs']")
    assert len(badges) == 1 and page.text_content("section[aria-labelledby=sa-badge] pre").count("![Launch in ESA Datalabs]") == 1
    target = badges[0].evaluate("img => img.parentElement.href")
    assert target == f"https://sciapps.datalabs.esa.int/launch/?datalab=xmm-epic-spectrum-fit&version={XMM}"
    assert "where the reader gives Observation id, Upper energy (keV)" in page.text_content("section[aria-labelledby=sa-badge]")
    page.click(f"text=Launch {XMM} build 1 on your data")
    page.wait_for_selector(".sa-launch__refused:not([hidden])")
    assert "Observation id needs a value" in page.text_content(".sa-launch__refused")  # the example is not a value
    page.fill("#sa-p-obsid", "0765432109")
    page.click(".sa-launch__repair button[type=submit]")
    page.wait_for_selector(".sa-launch__summary:not([hidden])")
    assert page.get_attribute(".sa-launch__go", "href") == (
        f"https://datalabs.esa.int/launch?datalab=xmm-epic-spectrum-fit&version={XMM}&digest={digest}"
        "&obsid=0765432109&max_energy_kev=10"
    )
    page.goto("datalabs/herschel-spire-photometry/")
    assert page.query_selector("a.sa-launch") is None
    assert "can no longer be launched" in page.text_content(".sa-banner--archived")


def test_a_signed_release_whose_test_failed_offers_no_launch(any_size_page):
    """Euclid's only record is signed, but its test failed: not verified, nothing to launch,
    no badge, and the page says why."""
    page = any_size_page
    page.goto("datalabs/euclid-q1-photoz/")
    said = page.text_content(".sa-nothing-yet")
    assert "is not verified (signed, but its test failed: 1 of 1 notebooks failed)" in said
    assert page.query_selector("a.sa-launch") is None and page.query_selector("#sa-badge") is None
    assert page.query_selector(".sa-launch-form") is None
    assert page.query_selector("a[href^='https://datalabs.esa.int/launch']") is None
    assert "verified, published" not in page.text_content("header")


def test_bookmark_survives_a_reload_and_exports(page, tmp_path):
    page.goto("datalabs/gaia-dr3-hrd/")
    star = "button.sa-star[data-id='gaia-dr3-hrd']"
    assert page.get_attribute(star, "aria-pressed") == "false"
    page.click(star)
    assert page.get_attribute(star, "aria-pressed") == "true"
    page.reload()
    assert page.get_attribute(star, "aria-pressed") == "true"
    page.goto("bookmarks/")
    page.wait_for_selector("body[data-bookmarks-ready='true']")
    assert result_ids(page) == ["gaia-dr3-hrd"]
    with page.expect_download() as download:
        page.click("[data-sa-action='export']")
    exported = json.loads(Path(download.value.path()).read_text())
    assert exported["format"] == "sciapps-bookmarks" and exported["ids"] == ["gaia-dr3-hrd"]
    upload = tmp_path / "bookmarks.json"
    upload.write_text(json.dumps({**exported, "ids": ["planck-cmb-map-viewer", "gone-datalab", "../bad id"]}))
    page.set_input_files("[data-sa-action='import']", str(upload))
    page.wait_for_function("() => document.querySelectorAll('.sa-results .sa-card').length === 2")
    assert result_ids(page) == ["gaia-dr3-hrd", "planck-cmb-map-viewer"]
    assert "no longer in the store: gone-datalab" in page.text_content(".sa-results__status")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    page.set_input_files("[data-sa-action='import']", str(bad))
    page.wait_for_function("() => document.querySelector('.sa-results__status').textContent.includes('could not be imported')")


def test_no_script_from_the_catalog_runs(page):
    page.goto("datalabs/xss-attempt/")
    assert "XSS probe" in page.text_content("h1")
    open_browse(page)
    search(page, "xss")
    assert result_ids(page) == ["xss-attempt"]
    assert "<script>" in page.text_content(".sa-card[data-id='xss-attempt'] h3")  # shown as text
    # the page fixture asserts that no dialog opened


def _scores(pack: dict, query: str) -> dict[int, float]:
    """store.js's search, written again from its comment, in Python: lunr.py's tokenizer,
    stop words and stemmer, BM25 with lunr's k1, b, boosts and idf; per word the stem
    (weight 10) and each term it begins (weight 1); every word must match."""
    import math

    from lunr.stemmer import stemmer
    from lunr.stop_word_filter import stop_word_filter
    from lunr.token import Token
    from lunr.tokenizer import Tokenizer

    n, fields = len(pack["docs"]["rows"]), pack["fields"]
    averages = [sum(lengths) / n for lengths in pack["lengths"]]

    def postings(t: int, f: int):
        listed = pack["postings"][t][f]
        if not listed:
            return []
        deltas, tfs = (listed[0], listed[1]) if isinstance(listed[0], list) else (listed, [1] * len(listed))
        docs, d = [], 0
        for delta in deltas:
            d += delta
            docs.append(d)
        return list(zip(docs, tfs))

    def add(t: int, weight: float, into: dict) -> None:
        having = sum(len(postings(t, f)) for f in range(len(fields)))
        idf = math.log(1 + abs((n - having + 0.5) / (having + 0.5)))
        for f in range(len(fields)):
            for d, tf in postings(t, f):
                norm = pack["k1"] * (1 - pack["b"] + pack["b"] * pack["lengths"][f][d] / averages[f])
                into[d] = into.get(d, 0.0) + idf * (pack["k1"] + 1) * weight * tf / (norm + tf) * pack["boosts"][f]

    found = None
    for token in (str(t) for t in Tokenizer(query) if stop_word_filter(t) is not None):
        word: dict[int, float] = {}
        stem = str(stemmer(Token(token)))
        if stem in pack["terms"]:
            add(pack["terms"].index(stem), 10, word)
        if len(token) > 1:
            for t, term in enumerate(pack["terms"]):
                if term.startswith(token):
                    add(t, 1, word)
        found = word if found is None else {d: found[d] + word[d] for d in found.keys() & word.keys()}
    return found or {}


def test_the_browser_scores_as_the_formula_says(page, store):
    """The search store.js runs matches a Python reading of the same formula on the same
    index, document for document and score for score."""
    folder, _ = store
    pack = json.loads((folder / "search" / "index.json").read_text())
    open_browse(page)
    for query in ("gaia", "spectrum", "spectrum fit", "gaia light curv", "xmm-newton", "ma", "nircam image", "zzz"):
        expected = _scores(pack, query)
        got = page.evaluate(
            """q => { const s = window.__sciapps.store; const out = [];
                      const found = window.__sciapps.find(s, q);
                      for (let d = 0; d < s.rows.length; d++) if (found.has(d)) out.push([d, found.get(d)]);
                      return out; }""",
            query,
        )
        assert sorted(d for d, _ in got) == sorted(expected), query
        for d, score in got:
            assert abs(score - expected[d]) < 1e-9 * max(1, expected[d]), query


EVERY_PAGE_TYPE = [
    ("home", ""),
    ("browse", "browse/"),
    ("browse-id", "browse/?q=0123456789"),
    ("datalab", "datalabs/gaia-dr3-hrd/"),
    ("datalab-signed-failed", "datalabs/euclid-q1-photoz/"),
    ("archived", "datalabs/herschel-spire-photometry/"),
    ("bookmarks", "bookmarks/"),
    ("missions", "missions/"),
    ("mission", "missions/xmm-newton/"),
    ("mission-archived", "missions/herschel/"),
    ("create", "create/"),
    ("about", "about/"),
    ("reference-datalab-yaml", "reference/datalab-yaml/"),
    ("reference-rules", "reference/rules/"),
    ("404", "404.html"),
    ("launch", f"launch/?datalab=xmm-epic-spectrum-fit&version={XMM}&obsid=0765432109"),
    ("launch-refused", "launch/?datalab=xmm-epic-spectrum-fit&obsid=07654"),
    ("open", "open/?mission=xmm-newton&obsid=0123456789"),
    ("open-refused", "open/?mission=xmm-newton&obsid=076"),
]


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("size", list(SIZES))
def test_every_page_type_passes_axe_and_never_scrolls_sideways(browser, site_url, scheme, size):
    """axe finds nothing serious or critical on any page type of the store, in either
    scheme, at either size; on a phone no page is wider than the screen."""
    from axe_playwright_python.sync_playwright import Axe

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(
        base_url=site_url, viewport=SIZES[size], is_mobile=size == "phone", color_scheme="dark" if scheme == "dark" else "light"
    )
    page = context.new_page()
    axe, found = Axe(), []
    for name, url in EVERY_PAGE_TYPE:
        page.goto(url)
        if name.startswith("browse"):
            page.wait_for_selector("body[data-search-ready='true']")
        if name.startswith(("launch", "open")):
            page.wait_for_function("() => window.__sciapps && window.__sciapps.launchReady")
        assert page.get_attribute("body", "data-md-color-scheme") == ("slate" if scheme == "dark" else "default")
        page.screenshot(path=str(ARTIFACTS / f"store-{size}-{scheme}-{name}.png"), full_page=True)
        violations = axe.run(page).response["violations"]
        found += [
            f"{name}: {v['id']} ({v['impact']}): {v['help']} {[n['target'] for n in v['nodes']][:3]}"
            for v in violations
            if v["impact"] in ("serious", "critical")
        ]
        wider = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
        if wider > 0:
            found.append(f"{name}: the page scrolls sideways by {wider} px")
    context.close()
    assert found == [], "\n".join(found)


def test_on_a_phone_the_first_result_is_in_the_first_screen(browser, site_url):
    context = browser.new_context(base_url=site_url, viewport={"width": 390, "height": 844}, is_mobile=True)
    phone = context.new_page()
    phone.goto("browse/")
    phone.wait_for_selector("body[data-search-ready='true']")
    box = phone.query_selector(".sa-results .sa-card").bounding_box()
    assert box["y"] + 40 < 844, box  # the first result shows without scrolling
    assert phone.text_content(".sa-facets-fold summary") == "Filters"
    phone.click(".sa-facets-fold summary")
    phone.check("#sa-archived")
    assert phone.text_content(".sa-facets-fold summary") == "Filters (1)"
    context.close()


def test_versions_sit_beside_the_page_on_a_desktop_and_under_the_header_on_a_phone(browser, site_url):
    """Versions: a side column on a desktop; on a phone, right under the header with the
    newest version shown and earlier ones folded. Digests never wrap, at either size."""
    for width, height in ((1280, 900), (390, 844)):
        context = browser.new_context(base_url=site_url, viewport={"width": width, "height": height}, is_mobile=width < 500)
        page = context.new_page()
        page.goto("datalabs/gaia-dr3-hrd/")
        versions = page.query_selector(".sa-history").bounding_box()
        header = page.query_selector(".sa-datalab__head").bounding_box()
        form = page.query_selector("form[data-sa-app='launch-form']").bounding_box()
        newest = page.query_selector(".sa-history__version").get_attribute("data-version")
        assert newest == GAIA and "current" in page.text_content(".sa-history__version--current .sa-history__title")
        for digest in page.query_selector_all(".sa-history .sa-digest"):
            box = digest.bounding_box()
            if box:  # a folded version's digest has no box
                assert box["height"] < 30, box  # one line
        if width > 1000:
            assert versions["x"] > form["x"] + form["width"] and versions["y"] < header["y"] + header["height"] + 100
            assert page.is_visible(".sa-history__older .sa-history__version")  # all versions shown
        else:
            assert header["y"] + header["height"] <= versions["y"] < form["y"]
            assert versions["x"] < 40 and versions["width"] > 300
            assert not page.is_visible(".sa-history__older .sa-history__version")  # folded on a phone
            page.click(".sa-history__older summary")
            assert page.is_visible("[data-version='1.1.0'] a:text('Launch 1.1.0 build 1')")
        context.close()


def test_the_release_leads_the_page_and_nothing_unverified_is_offered(browser, site_url):
    """At both sizes: a datalab with no verified release shows no Launch button and no badge,
    and says so; one with releases shows its current build's launch, pinned by digest, first."""
    digest = "sha256%3A" + hashlib.sha256(f"gaia-dr3-hrd {GAIA} 1".encode()).hexdigest()  # tests/releases/records.py
    for width, height in ((1280, 900), (390, 844)):
        context = browser.new_context(base_url=site_url, viewport={"width": width, "height": height}, is_mobile=width < 500)
        page = context.new_page()
        page.goto("datalabs/planck-cmb-map-viewer/")
        assert page.query_selector(".sa-launch") is None and page.query_selector("#sa-badge") is None
        assert page.query_selector("a[href*='datalabs.esa.int/launch']") is None  # no launch link anywhere
        assert page.is_visible("text=Nothing to launch yet")
        page.goto("datalabs/gaia-dr3-hrd/")
        first = page.query_selector("article a.md-button")  # the first action on the page
        assert first.inner_text() == f"Launch {GAIA} · build 1 on your data" and first.get_attribute("href") == "#sa-launch-with"
        box = first.bounding_box()
        assert box["y"] + box["height"] < height  # in the first screen
        first.click()  # to the form, whose values are shown before anything starts
        assert page.is_visible("#sa-launch-with") and page.input_value("#sa-p-source_id") == ""
        assert page.get_attribute("#sa-p-source_id", "placeholder") == "for example 4295806720"
        assert page.is_hidden("#sa-p-source_id-error")  # nothing said before the scientist types
        page.click("#sa-launch-with ~ form button[type=submit], .sa-launch-form button[type=submit]")
        assert page.text_content("#sa-p-source_id-error") == "Source to mark needs a value, for example 4295806720."
        assert digest not in page.content() or "sa-launch__go" not in page.content()
        context.close()
