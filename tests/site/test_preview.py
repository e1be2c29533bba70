"""A merge request's preview store, in Chromium: every page carries the banner, the previewed
datalab launches its review image by digest, script planted in the preview never runs, and a
script that did run on the preview's origin could not reach a page of the real store, whose
origin differs (store.preview_url must differ from store.url)."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from sciapps.config import load_config, parse_config
from sciapps.errors import SciAppsError
from sciapps.site.build import build_store
from sciapps.site.model import Preview
from tests.conftest import CASES, REPO
from tests.site.conftest import serve

REVIEW = "127.0.0.1:5000/sciapps/review/xmm-epic-spectrum-fit@sha256:" + "ab" * 32


@pytest.fixture(scope="module")
def preview_site(tmp_path_factory):
    work = tmp_path_factory.mktemp("preview")
    config = replace(load_config(REPO / "sciapps.yaml"), path=work / "sciapps.yaml")
    preview = Preview(
        "merge request !12",
        "http://127.0.0.1/mr-12/",
        "12",
        frozenset({"xmm-epic-spectrum-fit", "xss-attempt", "draft-one"}),
        {"xmm-epic-spectrum-fit": REVIEW},
        before={
            "xmm-epic-spectrum-fit": [
                ("The old plot", (REPO / "datalabs/gaia-dr3-hrd/screenshots/hr_diagram.png").read_bytes()),
                ("<script>not a picture</script>", b"<svg onload=alert(1)></svg>"),  # not a picture: never published
            ]
        },
    )
    report = build_store(config, [REPO / "datalabs", CASES / "store"], work / "public-preview", REPO / "mkdocs.yml", 1, preview)
    url, server = serve(report.out)
    yield report.out, url
    server.shutdown()


def test_every_page_says_it_is_an_unreviewed_preview_and_none_is_announced(preview_site):
    folder, _ = preview_site
    pages = list(folder.rglob("index.html"))
    assert len(pages) > 10
    for page in pages:
        text = page.read_text()
        assert "Unreviewed preview of merge request !12." in text and 'content="noindex, nofollow"' in text, page
        assert "application/atom+xml" not in text  # no feed announced
    assert not (folder / "feed.xml").exists() and not (folder / "sitemap.xml").exists()
    catalog = json.loads((folder / "api" / "catalog.json").read_text())
    assert catalog["preview"] == {"unreviewed": True, "label": "merge request !12", "merge_request": "12"}
    shown = {d["id"] for d in catalog["datalabs"]}
    assert "draft-one" in shown and "private-one" not in shown  # what it previews, drafts included; nothing private
    gaia = json.loads((folder / "api" / "datalabs" / "gaia-dr3-hrd.json").read_text())
    assert gaia["preview"]["unreviewed"] is True and gaia["preview"]["previewed"] is False


def test_the_preview_page_shows_its_banner_and_launches_the_review_image(browser, preview_site):
    _, url = preview_site
    page = browser.new_page()
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(url + "datalabs/xmm-epic-spectrum-fit/")
    assert page.is_visible(".sa-preview-banner")
    assert "Unreviewed preview of merge request !12." in page.text_content(".sa-preview-banner")
    assert page.get_attribute(".sa-banner--preview", "data-preview-image") == REVIEW
    # it takes parameters: the header leads to the form, marked as a preview of the review image
    assert page.get_attribute("a.sa-launch", "href") == "#sa-launch-with"
    assert page.text_content("a.sa-launch") == "Launch the preview image on your data"
    assert page.text_content("#sa-launch-with") == "Launch on your data (preview)"
    assert REVIEW in page.text_content(".sa-launch-form__release") and "never reviewed or signed" in page.text_content(
        ".sa-launch-form__release"
    )
    assert page.query_selector(".sa-launch-form__share") is None  # a preview is never shared as a launch link
    before, after = page.query_selector_all(".sa-compare > div")
    assert [i.get_attribute("alt") for i in before.query_selector_all("img")] == ["Before: The old plot"]
    assert len(after.query_selector_all("img")) == 1
    assert page.evaluate("() => [...document.querySelectorAll('.sa-compare img')].every(i => i.naturalWidth > 0)")
    page.fill("#sa-p-obsid", "0765432109")
    page.click(".sa-launch-form button[type=submit]")
    page.wait_for_selector(".sa-launch__summary:not([hidden])")
    facts = page.text_content(".sa-launch__facts")
    assert "the review image of merge request !12" in facts and "no: a preview" in facts
    launch = page.get_attribute(".sa-launch__go", "href")
    assert "digest=sha256%3A" + "ab" * 32 in launch and "obsid=0765432109" in launch  # the review image, by digest
    page.goto(url + "datalabs/xss-attempt/")  # merge-request content with script in it
    page.wait_for_timeout(300)
    assert dialogs == [] and page.is_visible(".sa-preview-banner")
    page.close()


def test_script_on_the_preview_origin_cannot_reach_the_real_store(browser, preview_site, site_url):
    """Even a script that ran on the preview's origin (planted here by hand, as if the
    preview's defences had failed) cannot read a page of the real store, its API or its
    storage: the two are different origins."""
    folder, url = preview_site
    assert url != site_url
    real = browser.new_context()
    store_tab = real.new_page()
    store_tab.goto(site_url + "create/")
    store_tab.evaluate("() => localStorage.setItem('sciapps.secret', 'token-in-the-real-store')")
    (folder / "planted.html").write_text(
        """<!doctype html><title>planted</title><script>
        const real = %s;
        const out = {};
        const w = window.open(real + "create/");
        setTimeout(async () => {
          try { out.page = w.document.title; } catch (e) { out.page = "blocked: " + e.name; }
          try { out.storage = localStorage.getItem("sciapps.secret"); } catch (e) { out.storage = "blocked"; }
          try { await (await fetch(real + "api/catalog.json")).text(); out.api = "read"; } catch (e) { out.api = "blocked"; }
          document.title = JSON.stringify(out);
        }, 1500);
        </script>"""
        % json.dumps(site_url)
    )
    tab = real.new_page()
    tab.goto(url + "planted.html")
    tab.wait_for_function("() => document.title.startsWith('{')", timeout=15_000)
    out = json.loads(tab.title())
    assert out == {"page": "blocked: SecurityError", "storage": None, "api": "blocked"}
    real.close()


def test_a_preview_url_on_the_stores_origin_is_refused(tmp_path):
    text = "store:\n  url: https://sciapps.example.org\n  preview_url: https://sciapps.example.org\n"
    with pytest.raises(SciAppsError, match="has the store's own origin"):
        parse_config(text, tmp_path / "sciapps.yaml")
    other = parse_config(
        "store:\n  url: https://sciapps.example.org\n  preview_url: https://previews.example.org/\n", tmp_path / "sciapps.yaml"
    )
    assert other.preview_url == "https://previews.example.org"
