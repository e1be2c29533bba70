"""`sciapps scan` on real images: planted problems are caught with their rule named, the
example catalog scans clean, the reports are written, and broken scanners fail the gate."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from sciapps.catalog.loader import load_datalab
from sciapps.config import load_config
from sciapps.images.build import build, plan
from sciapps.buildfiles import pin_bases
from sciapps.engine import context_tar
from sciapps.scanning.base import isolate
from sciapps.scanning.target import Target
from sciapps.scanning.policy import Exception_, Policy
from sciapps.stages.scan import scan_one
from tests.conftest import CASES, REPO

SCAN = CASES / "scan"
MIRROR = REPO / "tests" / "scanning" / "osv"
EXAMPLES = sorted(p.name for p in (REPO / "datalabs").iterdir() if p.is_dir())
CONFIG = load_config(REPO / "sciapps.yaml")


def expected(case: str) -> dict:
    return json.loads((SCAN / case / "expected.yaml").read_text().splitlines()[1])


def image_for(engine, approved, case: str) -> str:
    """Build the case's image; cases the build itself refuses are built around its checks."""
    lab = load_datalab(SCAN / case, CONFIG.limits)
    if "build" not in expected(case):
        return build(engine, plan(lab, CONFIG, approved), log=lambda line: None).ref
    files: dict = {e.path: lab.dir / e.path for e in lab.files if e.kind == "file"}  # as docker build would see it
    # ...with approved bases pinned to their ids, as SciApps builds (no `jl_base` tag is relied on)
    files["Dockerfile"] = pin_bases(lab.read_text("Dockerfile"), {n: b.image_id for n, b in approved.items()}, CONFIG.registry)[
        0
    ].encode()
    result = engine.build(context_tar(files), tag=None)
    ref = f"sciapps-scan-test/{case}:latest"
    engine.tag(result.image_id, ref)
    return ref


def run(case: str, image: str, policy: Policy = Policy(), mirror: Path = MIRROR, today=None):
    lab = load_datalab(SCAN / case, CONFIG.limits)
    return scan_one(CONFIG, lab, image, policy, mirror, log=lambda line: None, today=today)


@pytest.mark.parametrize("case", sorted(p.name for p in SCAN.iterdir() if p.is_dir()))
def test_planted_problem_is_caught_with_its_rule(engine, approved, case):
    want = expected(case)
    report, _ = run(case, image_for(engine, approved, case))
    assert report.failed_scanners == [], [(o.scanner, o.message) for o in report.failed_scanners]
    assert report.passed is (want["scan"] == "passed"), report.summary()
    blocking = {j.finding.rule for j in report.blocking}
    assert set(want.get("blocking", [])) <= blocking, blocking


def test_reports_and_sbom(engine, approved):
    report, target = run("vulnerable-dependency", image_for(engine, approved, "vulnerable-dependency"))
    folder = target.workdir
    dependency = json.loads((folder / "gl-dependency-scanning-report.json").read_text())
    (vuln,) = [v for v in dependency["vulnerabilities"] if v["identifiers"][0]["value"] == "GHSA-x84v-xcm2-53pg"]
    assert {"type": "cve", "name": "CVE-2018-18074", "value": "CVE-2018-18074"} in vuln["identifiers"]
    assert vuln["severity"] == "High" and vuln["location"]["dependency"] == {"package": {"name": "requests"}, "version": "2.19.1"}
    assert vuln["solution"] == "Upgrade requests to 2.20.0 or later."
    assert dependency["scan"]["type"] == "dependency_scanning" and dependency["scan"]["status"] == "failure"
    sbom = json.loads((folder / "sbom.cdx.json").read_text())
    purls = {c["purl"] for c in sbom["components"]}
    assert sbom["bomFormat"] == "CycloneDX" and "pkg:pypi/requests@2.19.1" in purls
    assert any(p.startswith("pkg:deb/debian/libc6@") for p in purls) and any(p.startswith("pkg:pypi/jupyterlab@") for p in purls)
    result = json.loads((folder / "scan.json").read_text())
    assert result["stage"] == "scan" and result["status"] == "failed" and result["details"]["sbom"] == "sbom.cdx.json"
    assert "GHSA-x84v-xcm2-53pg" in (folder / "scan.md").read_text()

    report, target = run("fake-credential", image_for(engine, approved, "fake-credential"))
    secrets = json.loads((target.workdir / "gl-secret-detection-report.json").read_text())
    files = {v["location"]["file"] for v in secrets["vulnerabilities"]}
    assert files == {"datalabs/fake-credential/notebooks/main.ipynb", "datalabs/fake-credential/scripts/fetch.py"}


def test_exceptions_expire(engine, approved):
    image = image_for(engine, approved, "shell-injection")
    valid = Policy(
        exceptions=(Exception_("B602", "shell-injection", "input() is the analyst's own, in a sandbox", "2099-12-31"),)
    )
    report, _ = run("shell-injection", image, valid)
    assert report.passed
    (judged,) = [j for j in report.judged if j.finding.rule == "B602"]
    assert judged.why.startswith("excepted until 2099-12-31")
    expired = Policy(exceptions=(Exception_("B602", "shell-injection", "temporarily accepted", "2020-01-31"),))
    report, _ = run("shell-injection", image, expired)
    assert not report.passed and "expired on 2020-01-31" in report.blocking[0].why
    other = Policy(exceptions=(Exception_("B602", "another-datalab", "not for this one", "2099-12-31"),))
    assert not run("shell-injection", image, other)[0].passed


def test_secrets_cannot_be_excepted(engine, approved):
    policy = Policy(exceptions=(Exception_("AWSAccessKey", "fake-credential", "we promise it is fake", "2099-12-31"),))
    report, _ = run("fake-credential", image_for(engine, approved, "fake-credential"), policy)
    assert not report.passed


def test_corrupt_osv_record_fails_the_gate(engine, approved, tmp_path):
    import shutil

    shutil.copytree(MIRROR, tmp_path / "osv")
    (tmp_path / "osv" / "PyPI" / "BROKEN-1.json").write_text("{not json")
    report, _ = run("clean-with-binary-files", image_for(engine, approved, "clean-with-binary-files"), mirror=tmp_path / "osv")
    assert not report.passed
    (failed,) = report.failed_scanners
    assert failed.scanner == "osv" and "BROKEN-1.json" in failed.message


class Hangs:
    name = "hangs"
    needs_image = False

    def scan(self, target):
        time.sleep(60)


class Crashes:
    name = "crashes"
    needs_image = False

    def scan(self, target):
        return [1 / 0]


def test_hanging_or_crashing_scanner_is_failed_in_bounded_time(tmp_path):
    lab = load_datalab(SCAN / "clean-with-binary-files", CONFIG.limits)
    target = Target(lab, CONFIG, "", "Dockerfile", None, None, MIRROR, 3000, tmp_path)
    start = time.perf_counter()
    hung = isolate(Hangs(), target, timeout=2)
    assert hung.status == "failed" and "did not finish within 2 s" in hung.message
    assert time.perf_counter() - start < 10
    crashed = isolate(Crashes(), target, timeout=30)
    assert crashed.status == "failed" and "ZeroDivisionError" in crashed.message


@pytest.mark.parametrize("example", EXAMPLES)
def test_example_catalog_scans_clean(engine, approved, example):
    from sciapps.cli import cli

    result = CliRunner().invoke(cli, ["scan", example, "--osv-mirror", str(MIRROR), "--config", str(REPO / "sciapps.yaml")])
    assert result.exit_code == 0, result.output
    assert f"{example}: scan passed" in result.output


def test_files_that_cannot_be_read_as_text_are_listed(engine, approved):
    report, _ = run("clean-with-binary-files", image_for(engine, approved, "clean-with-binary-files"))
    notices = {j.finding.file for j in report.judged if j.finding.rule == "not-scanned"}
    assert notices == {"data/blob.bin", "notebooks/binary.ipynb"}
    assert report.passed
