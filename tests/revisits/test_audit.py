"""`sciapps audit`: published releases' SBOMs against a fresh OSV mirror, the store's mark,
and one maintainers' issue per datalab on the GitLab stand-in, updated and then closed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from sciapps.cli import cli
from tests.conftest import REPO
from tests.releases import records
from tests.review.fake_gitlab import FakeGitLab, Server
from tests.catalogs import write_settings


def sbom(*packages: tuple[str, str]) -> bytes:
    """A CycloneDX SBOM as the scan writes it: PyPI packages."""
    return json.dumps(
        {
            "bomFormat": "CycloneDX",
            "specVersion": "1.5",
            "metadata": {"properties": [{"name": "sciapps:os-version-id", "value": "12"}]},
            "components": [
                {"name": n, "version": v, "type": "library", "purl": f"pkg:pypi/{n.lower()}@{v}"} for n, v in packages
            ],
        }
    ).encode()


def advisory(folder: Path, advisory_id: str, package: str, fixed: str, severity: str = "HIGH") -> None:
    (folder / "PyPI").mkdir(parents=True, exist_ok=True)
    (folder / "PyPI" / f"{advisory_id}.json").write_text(
        json.dumps(
            {
                "id": advisory_id,
                "summary": f"A flaw in {package}",
                "modified": "2026-11-24T00:00:00Z",
                "database_specific": {"severity": severity},
                "affected": [
                    {
                        "package": {"ecosystem": "PyPI", "name": package},
                        "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}],
                    }
                ],
            }
        )
    )


@pytest.fixture
def published(tmp_path):
    """A catalog whose gaia-dr3-hrd 1.2.0 is published with a verified record and its SBOM,
    an OSV mirror with one old advisory (fixed before), and the GitLab stand-in."""
    root = tmp_path / "catalog"
    shutil.copytree(REPO / "datalabs" / "gaia-dr3-hrd", root / "datalabs" / "gaia-dr3-hrd")
    shutil.copy(REPO / "scan-policy.yaml", root / "scan-policy.yaml")
    signer = records.keys(root)
    contents = sbom(("numpy", "1.26.4"), ("astropy", "6.0.0"))
    digest, envelope = records.record(signer, "gaia-dr3-hrd", "1.2.0", sbom=contents)
    out = root / "build" / "releases"
    records.mirror(out, {"gaia-dr3-hrd": [(digest, envelope)]})
    (out / "gaia-dr3-hrd" / f"{digest[7:]}.sbom.json").write_bytes(contents)
    osv = root / "osv"
    advisory(osv, "GHSA-old0-0000-0000", "numpy", "1.20.0")  # fixed long before: no match
    gitlab = Server(FakeGitLab())
    write_settings(root, {"gitlab.url": gitlab.url, "osv_mirror": "osv"})
    yield root, digest, gitlab
    gitlab.close()


def audit(root: Path, *extra: str):
    return CliRunner().invoke(
        cli, ["audit", *extra, "--config", str(root / "sciapps.yaml")], env={"SCIAPPS_ISSUES_TOKEN": "glpat-test"}
    )


def test_a_new_advisory_marks_the_release_and_opens_then_updates_then_closes_one_issue(published):
    from sciapps.config import load_config
    from sciapps.site.catalog import collect

    root, digest, gitlab = published
    result = audit(root, "--notify")
    assert result.exit_code == 0 and "0 with new blocking advisories" in result.output, result.output
    assert gitlab.fake.upstream.issues == []
    advisory(root / "osv", "GHSA-new1-0000-0000", "numpy", "1.26.5")  # disclosed after publication
    result = audit(root, "--notify")
    assert (
        result.exit_code == 1
        and "gaia-dr3-hrd 1.2.0 build 1: 1 new advisory since publication: GHSA-new1-0000-0000" in result.output
    )
    assert "gaia-dr3-hrd: maintainers' issue opened" in result.output
    (issue,) = gitlab.fake.upstream.issues
    assert issue["labels"] == ["sciapps::audit", "audit::gaia-dr3-hrd"] and "GHSA-new1-0000-0000" in issue["description"]
    entry = next(e for e in collect(load_config(root / "sciapps.yaml"), [root / "datalabs"]).entries if e["id"] == "gaia-dr3-hrd")
    (version,) = entry["versions"]
    assert version["verified"] and [a["id"] for a in version["audit"]["advisories"]] == ["GHSA-new1-0000-0000"]
    assert audit(root, "--notify").output.count("maintainers' issue unchanged") == 1  # a second run: no second issue
    advisory(root / "osv", "GHSA-new2-0000-0000", "astropy", "6.0.1", severity="CRITICAL")
    assert "maintainers' issue updated" in audit(root, "--notify").output
    assert len(gitlab.fake.upstream.issues) == 1 and "GHSA-new2-0000-0000" in gitlab.fake.upstream.issues[0]["description"]
    policy = root / "scan-policy.yaml"  # a reviewed exception silences both until they expire
    policy.write_text(
        policy.read_text()
        + "\n".join(
            [
                "" if "exceptions:" in policy.read_text() else "exceptions:",
                *(
                    "  - "
                    f"{{finding: {i}, datalab: gaia-dr3-hrd, reason: not reachable from the notebooks, expires: '2099-01-01'}}"
                    for i in ("GHSA-new1-0000-0000", "GHSA-new2-0000-0000")
                ),
            ]
        )
        + "\n"
    )
    result = audit(root, "--notify")
    assert result.exit_code == 0 and "gaia-dr3-hrd: maintainers' issue closed" in result.output, result.output
    assert gitlab.fake.upstream.issues[0]["state"] == "closed"


def test_a_release_is_audited_only_with_the_sbom_its_signed_record_names(published):
    root, digest, _ = published
    (root / "build" / "releases" / "gaia-dr3-hrd" / f"{digest[7:]}.sbom.json").write_bytes(sbom(("numpy", "1.0.0")))  # swapped
    advisory(root / "osv", "GHSA-new1-0000-0000", "numpy", "1.26.5")
    result = audit(root)
    assert result.exit_code == 0 and "1 without an SBOM to check" in result.output
    report = json.loads((root / "build" / "audit.json").read_text())
    assert report["unchecked"] == {f"gaia-dr3-hrd/{digest[7:]}": "no SBOM that matches its record (run `sciapps releases sync`)"}


def test_no_mirror_no_key_or_no_gitlab_is_one_sentence(published, tmp_path):
    root, _, gitlab = published
    shutil.rmtree(root / "osv")
    result = audit(root)
    assert result.exit_code == 2 and "no OSV mirror at" in result.output and "Traceback" not in result.output
    advisory(root / "osv", "GHSA-new1-0000-0000", "numpy", "1.26.5")
    gitlab.fake.token_valid = False
    result = audit(root, "--notify")
    assert result.exit_code == 2 and "refused the token" in result.output
    (root / "keys" / "release.pub").unlink()
    assert audit(root).exit_code == 2


def test_sbom_packages_are_the_scan_s_own_view_of_an_image():
    """Debian packages are matched by source package and source version in OSV's Debian:<n>,
    as the scan matches them; SBOMs written before the properties fall back on the purl."""
    from sciapps.scanning.scanners.sbom import sbom_packages

    deb = {
        "name": "libssl3",
        "version": "3.0.15-1~deb12u1+b1",
        "type": "library",
        "purl": "pkg:deb/debian/libssl3@3.0.15-1~deb12u1%2Bb1?arch=amd64&distro=bookworm&upstream=openssl",
        "properties": [{"name": "sciapps:deb-source-version", "value": "3.0.15-1~deb12u1"}],
    }
    old = {**deb, "properties": []}
    pypi = {"name": "NumPy", "version": "1.26.4", "type": "library", "purl": "pkg:pypi/numpy@1.26.4"}
    bad = [
        {"name": "x"},
        "not a component",
        {"name": "y", "version": "1", "purl": "pkg:deb/"},
        {"purl": "pkg:npm/z@1", "name": "z", "version": "1"},
    ]
    with_property = {
        "metadata": {"properties": [{"name": "sciapps:os-version-id", "value": "12"}]},
        "components": [deb, pypi, *bad],
    }
    assert sbom_packages(with_property) == [
        ("Debian:12", "openssl", "3.0.15-1~deb12u1", "libssl3"),
        ("PyPI", "NumPy", "1.26.4", "NumPy"),
    ]
    assert sbom_packages({"components": [old]}) == [("Debian:12", "openssl", "3.0.15-1~deb12u1", "libssl3")]
    assert sbom_packages({"components": "nonsense", "metadata": []}) == []
