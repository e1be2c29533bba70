"""Store entries: launch and feedback URLs are filled from configuration, URL-encoded."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import parse_qs, urlsplit

import pytest

from sciapps.errors import SciAppsError
from sciapps.site.model import entry, fill_template, history, shown
from sciapps import yamlio
from tests.conftest import GAIA, REPO


def meta(name="gaia-dr3-hrd"):
    return yamlio.load((REPO / "datalabs" / name / "datalab.yaml").read_text())


def verified(tmp_path, datalab: str, version: str):
    """The judged records of one verified release of `datalab` `version`."""
    from sciapps.releases.mirror import Mirror
    from sciapps.releases.signing import public_key
    from tests.releases import records

    signer = records.keys(tmp_path)
    records.mirror(tmp_path / "releases", {datalab: [records.record(signer, datalab, version)]})
    return Mirror(tmp_path / "releases", public_key(tmp_path / "keys" / "release.pub")).all_releases([datalab], 1)[datalab]


def test_launch_url_is_the_template_with_encoded_values(config, tmp_path):
    m = {**meta(), "version": "1.2.0-rc.1"}
    template = "https://datalabs.esa.int/launch?datalab={id}&version={version}&digest={digest}"
    e = entry(m, replace(config, launch_url=template), verified(tmp_path, "gaia-dr3-hrd", "1.2.0-rc.1"))
    digest = e["release"]["digest"].replace(":", "%3A")  # every value URL-encoded
    assert e["urls"]["launch"] == f"https://datalabs.esa.int/launch?datalab=gaia-dr3-hrd&version=1.2.0-rc.1&digest={digest}"


def test_nothing_is_offered_to_launch_before_a_verified_release(config):
    e = entry(meta(), config)  # no release record at all
    assert e["urls"]["launch"] is None and e["release"] is None


def test_archived_cannot_be_launched(config):
    e = entry(meta("herschel-spire-photometry"), config)
    assert e["urls"]["launch"] is None and e["archived"]["reason"]


def test_feedback_url_prefills_an_issue(config):
    e = entry(meta(), config)
    query = parse_qs(urlsplit(e["urls"]["feedback"]).query)
    assert query["issue[title]"] == [f"Feedback: Gaia DR3 Hertzsprung-Russell diagram {GAIA}"]
    assert f"version {GAIA}" in query["issue[description]"][0]


def test_bad_template_is_a_clear_error():
    with pytest.raises(SciAppsError, match="launch_url"):
        fill_template("https://x/{nope}", "launch_url", id="a", version="1")


def test_resources_get_defaults_and_dates_come_from_the_changelog(config):
    e = entry(meta(), config)
    assert e["resources"] == {"cpu": 1, "memory_gb": 2, "gpu": 0, "storage_gb": 5}
    assert (e["created"], e["updated"]) == ("2025-06-13", str(meta()["changelog"][0]["date"]))  # the newest entry


@pytest.mark.parametrize(
    "status,visibility,expected",
    [("published", "public", True), ("archived", "public", True), ("draft", "public", False), ("published", "private", False)],
)
def test_what_the_store_shows(status, visibility, expected):
    assert shown({"status": status, "visibility": visibility}) is expected


def test_one_bad_feedback_item_is_left_out_not_all(tmp_path):
    import json

    from sciapps.site.model import Feedback

    export = tmp_path / "feedback.json"
    export.write_text(
        json.dumps(
            {
                "exported": "2026-11-20T10:00:00Z",
                "items": [
                    {"datalab": "gaia-dr3-hrd", "kind": "praise", "date": "2026-11-02", "comment": "Great"},
                    {"datalab": "gaia-dr3-hrd", "kind": "hack", "date": "2026-11-03"},
                    {"datalab": "gaia-dr3-hrd", "kind": "idea", "date": "2026-11-04", "comment": "x" * 5000},
                    "not an item",
                    {"datalab": "xmm-epic-spectrum-fit", "kind": "problem", "date": "2026-11-05"},
                ],
            }
        )
    )
    feedback = Feedback.load(export)
    assert [i["kind"] for i in feedback.by_datalab["gaia-dr3-hrd"]] == ["praise"]
    assert [i["kind"] for i in feedback.by_datalab["xmm-epic-spectrum-fit"]] == ["problem"]
    assert [p.split(": ")[1] for p in feedback.problems] == ["items/1/kind", "items/2/comment", "items/3"]
    assert all(p.endswith("this item is left out") for p in feedback.problems)


def test_versions_tell_the_changelog_and_the_builds_as_one_story(config, tmp_path):
    """Each version once, newest by precedence (1.10.0 after 1.9.0): its changes, then its
    builds newest first; a changelog version never published has no builds, a published
    one the changelog forgot has no changes."""
    from sciapps.releases.mirror import Mirror
    from sciapps.releases.signing import public_key
    from tests.releases import records

    m = {
        **meta(),
        "version": "1.10.0",
        "changelog": [
            {"version": "1.10.0", "date": "2026-12-01", "changes": ["Ten"]},
            {"version": "1.9.0", "date": "2026-11-01", "changes": ["Nine"]},
            {"version": "1.0.0", "date": "2025-01-01", "changes": ["First"]},
        ],
    }
    signer = records.keys(tmp_path)
    made = [
        records.record(signer, "gaia-dr3-hrd", "1.9.0", build=1),
        records.record(signer, "gaia-dr3-hrd", "1.9.0", build=2),
        records.record(signer, "gaia-dr3-hrd", "1.2.0"),
    ]
    records.mirror(tmp_path / "releases", {"gaia-dr3-hrd": made})
    judged = Mirror(tmp_path / "releases", public_key(tmp_path / "keys" / "release.pub")).all_releases(["gaia-dr3-hrd"], 9)
    story = history(entry(m, config, judged["gaia-dr3-hrd"]))
    assert [(h["version"], h["changes"], [b["build"] for b in h["builds"]], h["current"]) for h in story] == [
        ("1.10.0", ["Ten"], [], True),
        ("1.9.0", ["Nine"], [2, 1], False),
        ("1.2.0", [], [1], False),
        ("1.0.0", ["First"], [], False),
    ]
    assert story[2]["date"] == story[2]["builds"][0]["published"]  # no changelog date: when it was published
