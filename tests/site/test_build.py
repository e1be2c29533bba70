"""`sciapps site build`: every page and file of the store, safe and complete."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from xml.etree import ElementTree as ET

import pytest
from click.testing import CliRunner

from sciapps.cli import cli
from tests.conftest import CASES, REPO
from tests.site.conftest import html

EXAMPLES = sorted(p.name for p in (REPO / "datalabs").iterdir() if p.is_dir())


def test_every_page_is_there(store):
    folder, report = store
    for page in ["", "browse", "bookmarks", "missions", "missions/gaia", "reference/datalab-yaml", "reference/rules", "about"]:
        assert (folder / page / "index.html").is_file(), page
    for name in EXAMPLES + ["xss-attempt"]:
        assert (folder / "datalabs" / name / "index.html").is_file(), name
    assert not (folder / "datalabs" / "_template").exists()
    for hidden in ("draft-one", "private-one", "broken-one"):
        assert not (folder / "datalabs" / hidden).exists()
    assert [f.name for f, _ in report.skipped] == ["broken-one"]
    assert "DL-022" in report.skipped[0][1]


def test_api(store):
    folder, _ = store
    catalog = json.loads((folder / "api" / "catalog.json").read_text())
    ids = sorted(d["id"] for d in catalog["datalabs"])
    assert ids == sorted(EXAMPLES + ["xss-attempt"]) and catalog["count"] == len(ids)
    gaia = json.loads((folder / "api" / "datalabs" / "gaia-dr3-hrd.json").read_text())
    assert gaia["urls"]["launch"] == "https://datalabs.esa.int/launch?datalab=gaia-dr3-hrd&version=1.2.0"
    assert gaia["ci"]["test"]["status"] == "failed" and gaia["feedback"]["total"] == 3
    published = json.loads((folder / "schemas" / "datalab.schema.json").read_text())
    assert published == json.loads((REPO / "schemas" / "datalab.schema.json").read_text())
    assert (folder / "schemas" / "datalab" / "v1" / "datalab.schema.json").is_file()


def test_atom_feed(store):
    folder, _ = store
    ns = {"a": "http://www.w3.org/2005/Atom"}
    feed = ET.parse(folder / "feed.xml").getroot()
    entries = feed.findall("a:entry", ns)
    assert len(entries) == len(EXAMPLES) + 1
    first = entries[0]
    assert first.find("a:title", ns).text == "Euclid Q1 photometric redshifts 0.3.0"  # the newest
    assert first.find("a:link", ns).get("href") == "https://sciapps.datalabs.esa.int/datalabs/euclid-q1-photoz/"
    assert "What is new: Magnitude cut" in first.find("a:summary", ns).text


def test_datalab_page_content(store):
    folder, _ = store
    page = html(folder, "datalabs/gaia-dr3-hrd")
    assert page.count("<h1") == 1
    assert "<title>Gaia DR3 Hertzsprung-Russell diagram - SciApps</title>" in page
    assert 'href="https://datalabs.esa.int/launch?datalab=gaia-dr3-hrd&amp;version=1.2.0"' in page
    assert "/data/gaia/dr3" in page and "gaia_dr3_source" in page
    assert "1 of 1 notebooks failed" in page and "Made my HRD figure in minutes." in page
    assert (folder / "datalabs" / "gaia-dr3-hrd" / "screenshots" / "hr_diagram.png").is_file()
    assert "&lt;script&gt;alert(&#39;feedback&#39;)" in page
    archived = html(folder, "datalabs/herschel-spire-photometry")
    assert "Archived on 2026-07-01." in archived and "sa-launch" not in archived


def test_nothing_from_metadata_becomes_markup(store):
    folder, _ = store
    page = html(folder, "datalabs/xss-attempt")
    for attack in ("<script>alert(", "<img src=x", 'href="javascript', "<iframe"):
        assert attack not in page, attack  # as text, escaped, they are harmless
    assert "&lt;script&gt;alert(&#39;name&#39;)&lt;/script&gt; XSS probe" in page
    index = (folder / "search" / "index.json").read_text()
    assert json.loads(index)["docs"]["rows"]  # the JS inserts these with textContent


_INLINE = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>(.*?)</script>", re.S)


@pytest.mark.parametrize("page", ["", "browse", "datalabs/gaia-dr3-hrd", "reference/rules", "create"])
def test_content_security_policy_allows_only_the_sites_scripts(store, page):
    text = html(store[0], page)
    csp = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', text).group(1)
    assert "default-src 'self'" in csp and "object-src 'none'" in csp and "'unsafe-inline'" not in csp.split("style-src")[0]
    for body in _INLINE.findall(text):
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp
    assert text.index("Content-Security-Policy") < text.index("<script")


def test_only_the_create_page_may_connect_to_the_catalogs_gitlab(store):
    def connect(page):
        return re.search(r"connect-src ([^;]+);", html(store[0], page)).group(1)

    assert connect("create") == "'self' https://gitlab.esa.int"  # gitlab.url in sciapps.yaml
    assert connect("") == connect("browse") == connect("datalabs/gaia-dr3-hrd") == "'self'"
    settings = json.loads(re.search(r'id="sa-create-config">(.*?)</script>', html(store[0], "create")).group(1))
    assert settings["gitlab"]["project"] == "datalabs/sciapps" and settings["limits"]["notebook_mb"] == 10
    assert "Checklist for the moderator" in settings["checklist"]


def test_spdx_ids_for_the_licence_picker(store):
    spdx = json.loads((store[0] / "api" / "spdx.json").read_text())
    assert {"MIT", "BSD-3-Clause", "GPL-3.0-or-later"} <= set(spdx["ids"]) and "Classpath-exception-2.0" in spdx["exceptions"]
    assert spdx["symbols"]["apache-2.0"] == "Apache-2.0" and not any(i.startswith("LicenseRef-") for i in spdx["ids"])


def test_vendored_browser_libraries_match_their_pinned_versions():
    """create-deps.min.js is bundled from site/vendor/package.json (npm run bundle); its
    licence file names each package and version, so a bundle from other versions shows."""
    pinned = json.loads((REPO / "site/vendor/package.json").read_text())["devDependencies"]
    lock = json.loads((REPO / "site/vendor/package-lock.json").read_text())["packages"]
    licences = (REPO / "site/docs/assets/vendor/create-deps-LICENSES.txt").read_text()
    for name, version in pinned.items():
        assert lock[f"node_modules/{name}"]["version"] == version
        if name != "esbuild":
            assert f"{name} {version} " in licences


def test_failed_build_keeps_the_published_site(tmp_path, monkeypatch):
    out = tmp_path / "public"
    out.mkdir()
    (out / "index.html").write_text("the published store")

    def broken(*args, **kwargs):
        raise RuntimeError("engine crashed")

    monkeypatch.setattr("sciapps.site.engine_mkdocs.build", broken)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    result = CliRunner().invoke(cli, ["site", "build", "--out", str(out), "--config", str(REPO / "sciapps.yaml")])
    assert result.exit_code == 3
    assert (out / "index.html").read_text() == "the published store"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["public", "sciapps"]


def test_cli_exit_codes(tmp_path):
    ok = CliRunner().invoke(cli, ["site", "build", "--out", str(tmp_path / "a"), "--config", str(REPO / "sciapps.yaml")])
    assert ok.exit_code == 0, ok.output
    assert "Built the store with 8 datalabs" in ok.output
    skipped = CliRunner().invoke(
        cli, ["site", "build", "--out", str(tmp_path / "b"), "--catalog", str(CASES / "store"), "--config", str(REPO / "sciapps.yaml")]
    )
    assert skipped.exit_code == 1
    assert "left out of the store" in skipped.output and "broken-one" in skipped.output


def test_sitemap_lists_datalab_pages(store):
    folder, _ = store
    text = (folder / "sitemap.xml").read_text()
    assert "https://sciapps.datalabs.esa.int/datalabs/gaia-dr3-hrd/" in text
    assert "https://sciapps.datalabs.esa.int/browse/" in text
