"""`sciapps scan`: every scanner on one datalab, the policy gate, and the reports.

Writes into build/results/<id>/: scan.json (the stage result, source of truth),
scan.md (for moderators), sbom.cdx.json, and GitLab's report formats
(gl-secret-detection-report.json, gl-dependency-scanning-report.json,
gl-container-scanning-report.json, gl-code-quality-report.json).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

from sciapps.baselock import read_lock
from sciapps.buildfiles import DOCKERFILE, MAX_DOCKERFILE_BYTES
from sciapps.catalog.model import Datalab
from sciapps.config import Config
from sciapps.safefiles import UnsafeFile
from sciapps.scanning import reports
from sciapps.scanning.base import Callback, Outcome, ScanFinding, ScannerError, Target, isolate
from sciapps.scanning.policy import Policy
from sciapps.scanning.scanners import ALL_SCANNERS
from sciapps.scanning.scanners.trivy import TrivyScanner


@dataclass
class Judged:
    finding: ScanFinding
    blocks: bool
    why: str


@dataclass
class ScanReport:
    datalab: str
    image: str | None
    outcomes: list[Outcome]
    judged: list[Judged]

    @property
    def failed_scanners(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    @property
    def blocking(self) -> list[Judged]:
        return [j for j in self.judged if j.blocks]

    @property
    def passed(self) -> bool:
        return not self.failed_scanners and not self.blocking

    def summary(self) -> str:
        if self.passed:
            shown = len([j for j in self.judged if j.finding.kind != "sbom"])
            return f"passed: {shown} finding(s), none blocking"
        parts = []
        if self.blocking:
            parts.append(f"{len(self.blocking)} blocking finding(s)")
        if self.failed_scanners:
            parts.append("scanner(s) failed: " + ", ".join(o.scanner for o in self.failed_scanners))
        return "failed: " + "; ".join(parts)


def _own_dockerfile(lab: Datalab) -> str:
    try:
        return lab.read(DOCKERFILE, MAX_DOCKERFILE_BYTES).decode("utf-8", "replace")
    except UnsafeFile:  # none, or one that validation refuses
        return ""


def make_target(config: Config, lab: Datalab, image: str | None, policy: Policy, osv_mirror: Path) -> Target:
    from sciapps.images.build import plan

    approved = read_lock(config)
    dockerfile, name, base = "", "Dockerfile", None
    try:
        p = plan(lab, config, approved)
        dockerfile, base, name = p.dockerfile, p.bases[-1].image_id, "Dockerfile (generated)"
        if lab.get("mode") == "advanced":  # lint the file as its authors wrote it, not with pinned bases
            dockerfile, name = _own_dockerfile(lab), "Dockerfile"
    except Exception:  # no approved bases here: lint the own Dockerfile, if any
        dockerfile = _own_dockerfile(lab)
    return Target(lab, config, dockerfile, name, image, base, osv_mirror, policy.image_size_mb,
                  config.path_of(config.results_dir) / lab.id)


def scan(target: Target, policy: Policy, log: Callback = print, today: datetime.date | None = None) -> ScanReport:
    today = today or datetime.date.today()
    outcomes = []
    inventory_error = None
    if target.image:
        try:
            target.inventory  # read once here; the scanners' processes inherit it
            target.base_inventory
        except ScannerError as exc:
            inventory_error = str(exc)
    for scanner_class in ALL_SCANNERS:
        scanner = scanner_class()
        if scanner_class is TrivyScanner and not TrivyScanner.available():
            outcomes.append(Outcome(scanner.name, "skipped", 0.0, message="trivy is not on the PATH"))
            continue
        if scanner.needs_image and not target.image:
            outcomes.append(Outcome(scanner.name, "failed", 0.0, message="no image: build the datalab first"))
            continue
        if scanner.needs_image and inventory_error:
            outcomes.append(Outcome(scanner.name, "failed", 0.0, message=inventory_error))
            continue
        if scanner.name == "hadolint" and not target.dockerfile:
            outcomes.append(Outcome(scanner.name, "skipped", 0.0, message="no Dockerfile to lint"))
            continue
        outcome = isolate(scanner, target, policy.scanner_timeout_s)
        outcomes.append(outcome)
        state = {"ok": f"{len(outcome.findings)} finding(s)", "failed": f"FAILED: {outcome.message.splitlines()[0] if outcome.message else ''}"}
        log(f"{target.lab.id}: {scanner.name:12} {outcome.seconds:6.1f} s  {state.get(outcome.status, outcome.message)}")
    judged = []
    for outcome in outcomes:
        for finding in outcome.findings:
            blocks, why = (False, "inventory") if finding.kind == "sbom" else policy.verdict(finding, target.lab.id, today)
            judged.append(Judged(finding, blocks, why))
    report = ScanReport(target.lab.id, target.image, outcomes, judged)
    reports.write_all(target, report)
    return report
