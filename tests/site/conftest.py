"""A store built once per test session from the example catalog plus tests/datalabs/store,
with release records and a feedback export, served on 127.0.0.1."""

from __future__ import annotations

import functools
import json
import os
import shutil
import threading
from dataclasses import replace
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from sciapps.config import load_config
from sciapps.site.build import build_store
from tests.conftest import CASES, EUCLID, GAIA, REPO, XMM
from tests.releases import records

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium under Playwright; skipped on a laptop without it, never in CI."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing in CI: .ci/run must install it (apt-get install chromium)")
        pytest.skip("Chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, site_url):
    """A tab on the test store at 1280x900; after the test, no dialog (no script from the
    catalog ran) and no script error."""
    yield from _tab(browser, site_url, {"width": 1280, "height": 900})


SIZES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(params=list(SIZES))
def any_size_page(request, browser, site_url):
    """The same tab, on a desktop and on a phone (390x844, touch): a test that uses it runs at both."""
    yield from _tab(browser, site_url, SIZES[request.param], is_mobile=request.param == "phone")


def _tab(browser, site_url, viewport, is_mobile=False):
    context = browser.new_context(base_url=site_url, viewport=viewport, is_mobile=is_mobile, accept_downloads=True)
    tab = context.new_page()
    tab.dialogs = []
    tab.errors = []
    tab.on("dialog", lambda d: (tab.dialogs.append(d.message), d.dismiss()))
    tab.on("pageerror", lambda e: tab.errors.append(str(e)))
    yield tab
    assert tab.dialogs == [], f"a script from the catalog ran: {tab.dialogs}"
    assert tab.errors == [], tab.errors
    context.close()


def serve(folder: Path):
    """(url, server) of a static server for `folder` on 127.0.0.1."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/", server


FEEDBACK = {
    "exported": "2026-11-20T10:00:00Z",
    "items": [
        {
            "datalab": "gaia-dr3-hrd",
            "kind": "praise",
            "date": "2026-11-02",
            "author": "R. Scientist",
            "comment": "Made my HRD figure in minutes.",
        },
        {
            "datalab": "gaia-dr3-hrd",
            "kind": "problem",
            "date": "2026-11-10",
            "comment": "<script>alert('feedback')</script> Axis label overlaps",
        },
        {"datalab": "gaia-dr3-hrd", "kind": "idea", "date": "2026-10-01"},
    ],
}


@pytest.fixture(scope="session")
def store(tmp_path_factory):
    """(site folder, build report) of the test store."""
    work = tmp_path_factory.mktemp("store")
    config = replace(load_config(REPO / "sciapps.yaml"), path=work / "sciapps.yaml")
    signer = records.keys(work)
    failed_test = {
        **records.CHECKS,
        "test": {"status": "failed", "finished": "2026-11-20T10:05:00Z", "summary": "1 of 1 notebooks failed"},
    }
    gaia = [
        records.record(signer, "gaia-dr3-hrd", "1.1.0", published="2026-10-01T10:00:00+00:00"),
        records.record(signer, "gaia-dr3-hrd", "1.2.0", published="2026-11-01T10:00:00+00:00"),
        records.record(signer, "gaia-dr3-hrd", GAIA, published="2026-11-20T10:00:00+00:00"),
    ]
    other_key = records.keys(work / "other")
    xmm = [records.record(other_key, "xmm-epic-spectrum-fit", "2.0.1"), records.record(signer, "xmm-epic-spectrum-fit", XMM)]
    euclid = [records.record(signer, "euclid-q1-photoz", EUCLID, checks=failed_test)]  # signed, but its test failed
    records.mirror(work / "build" / "releases", {"gaia-dr3-hrd": gaia, "xmm-epic-spectrum-fit": xmm, "euclid-q1-photoz": euclid})
    (work / "build" / "feedback.json").write_text(json.dumps(FEEDBACK))
    report = build_store(config, [REPO / "datalabs", CASES / "store"], work / "public", REPO / "mkdocs.yml", jobs=1)
    return report.out, report


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def site_url(store):
    folder, _ = store
    url, server = serve(folder)
    yield url
    server.shutdown()


def html(folder: Path, page: str) -> str:
    return (folder / page / "index.html").read_text(encoding="utf-8")
