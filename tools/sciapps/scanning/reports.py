"""Scan reports: what one scan found, a Markdown summary, the SBOM and GitLab's report
formats; `write_all` returns the details the scan stage records as its result."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

from sciapps import __version__
from sciapps.config import CATALOG_DIR
from sciapps.scanning.base import Outcome, ScanFinding, dumps
from sciapps.scanning.target import Target


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


GITLAB_VERSION = "15.0.7"
GL_SEVERITY = {"critical": "Critical", "high": "High", "medium": "Medium", "low": "Low", "info": "Info"}
CODE_QUALITY = {"critical": "blocker", "high": "critical", "medium": "major", "low": "minor", "info": "info"}


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def _scan_block(kind: str, start: str, passed: bool) -> dict:
    tool = {"id": "sciapps", "name": "SciApps scan", "version": __version__, "vendor": {"name": "ESA Datalabs"}}
    return {
        "scanner": tool,
        "analyzer": tool,
        "type": kind,
        "start_time": start,
        "end_time": _now(),
        "status": "success" if passed else "failure",
    }


def _identifiers(f: ScanFinding) -> list[dict]:
    ids = [{"type": f.scanner, "name": f.rule, "value": f.rule, **({"url": f.url} if f.url else {})}]
    for alias in f.aliases:
        kind = "cve" if alias.startswith("CVE-") else "osv"
        ids.append({"type": kind, "name": alias, "value": alias})
    return ids


def _vulnerability(f: ScanFinding, location: dict) -> dict:
    return {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"sciapps:{f.fingerprint}")),
        "name": f.title[:255],
        "description": f.title,
        "severity": GL_SEVERITY[f.severity],
        "solution": f"Upgrade {f.package} to {f.fixed} or later." if f.fixed else None,
        "identifiers": _identifiers(f),
        "location": location,
    }


def gitlab_reports(target: Target, report: ScanReport, start: str) -> dict[str, dict]:
    findings = [j.finding for j in report.judged]
    lab = target.lab
    secrets = [
        _vulnerability(f, {"file": f"{CATALOG_DIR}/{lab.id}/{f.file}", "start_line": f.line or 1})
        for f in findings
        if f.kind == "secret"
    ]
    python = [f for f in findings if f.kind == "vulnerability" and f.ecosystem == "PyPI"]
    system = [f for f in findings if f.kind == "vulnerability" and f.ecosystem != "PyPI"]
    manifest = f"{CATALOG_DIR}/{lab.id}/requirements.txt"
    dependency = [
        _vulnerability(f, {"file": manifest, "dependency": {"package": {"name": f.package}, "version": f.version}})
        for f in python
    ]
    container = [
        _vulnerability(
            f,
            {
                "dependency": {"package": {"name": f.package}, "version": f.version},
                "operating_system": (f.ecosystem or "").lower(),
                "image": target.image or "",
            },
        )
        for f in system
    ]
    for item in dependency + container + secrets:
        if item["solution"] is None:
            del item["solution"]
    quality = [
        {
            "description": f"{f.rule}: {f.title}",
            "check_name": f"{f.scanner}/{f.rule}",
            "fingerprint": f.fingerprint,
            "severity": CODE_QUALITY[f.severity],
            "location": {
                "path": f"{CATALOG_DIR}/{lab.id}/{f.file}"
                if f.file and not f.file.startswith("Dockerfile (")
                else f"{CATALOG_DIR}/{lab.id}/Dockerfile",
                "lines": {"begin": f.line or 1},
            },
        }
        for f in findings
        if f.kind in ("dockerfile", "code", "policy")
    ]
    return {
        "gl-secret-detection-report.json": {
            "version": GITLAB_VERSION,
            "scan": _scan_block("secret_detection", start, report.passed),
            "vulnerabilities": secrets,
        },
        "gl-dependency-scanning-report.json": {
            "version": GITLAB_VERSION,
            "scan": _scan_block("dependency_scanning", start, report.passed),
            "vulnerabilities": dependency,
            "dependency_files": [],
        },
        "gl-container-scanning-report.json": {
            "version": GITLAB_VERSION,
            "scan": _scan_block("container_scanning", start, report.passed),
            "vulnerabilities": container,
        },
        "gl-code-quality-report.json": quality,
    }


def markdown(report: ScanReport) -> str:
    lines = [
        f"# Security scan of `{report.datalab}`",
        "",
        f"**{'Passed' if report.passed else 'Failed'}**: {report.summary()}",
        "",
    ]
    if report.image:
        lines += [f"Image: `{report.image}`", ""]
    lines += ["| scanner | status | time | findings |", "| --- | --- | --- | --- |"]
    for o in report.outcomes:
        note = o.message.splitlines()[0] if o.status != "ok" and o.message else str(len(o.findings))
        lines.append(f"| {o.scanner} | {o.status} | {o.seconds:.1f} s | {note} |")
    blocking = [j for j in report.judged if j.blocks]
    others = [j for j in report.judged if not j.blocks and j.finding.kind != "sbom"]
    for title, items in (("Blocking", blocking), ("Not blocking", others)):
        if not items:
            continue
        lines += ["", f"## {title}", "", "| severity | rule | what | where | why |", "| --- | --- | --- | --- | --- |"]
        for j in sorted(
            items, key=lambda j: (-["info", "low", "medium", "high", "critical"].index(j.finding.severity), j.finding.rule)
        ):
            f = j.finding
            where = (
                f"{f.package} {f.version} ({f.ecosystem}), fixed in {f.fixed or 'no release yet'}"
                if f.package
                else f"{f.file or ''}{':' + str(f.line) if f.line else ''}"
            )
            lines.append(f"| {f.severity} | {f.rule} | {f.title.replace('|', '/')} | {where} | {j.why} |")
    lines += [
        "",
        "An exception goes in scan-policy.yaml: the finding's rule or advisory id, the datalab, a reason and an expiry date.",
    ]
    return "\n".join(lines) + "\n"


def write_all(target: Target, report: ScanReport) -> dict:
    start = _now()
    folder = target.workdir
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in gitlab_reports(target, report, start).items():
        (folder / name).write_text(dumps(data), encoding="utf-8")
    (folder / "scan.md").write_text(markdown(report), encoding="utf-8")
    details = {
        "image": report.image,
        "scanners": [
            {
                "name": o.scanner,
                "status": o.status,
                "seconds": round(o.seconds, 2),
                "message": o.message[:2000],
                "findings": len(o.findings),
            }
            for o in report.outcomes
        ],
        "findings": [{**j.finding.as_dict(), "blocks": j.blocks, "why": j.why} for j in report.judged],
        "sbom": "sbom.cdx.json" if (folder / "sbom.cdx.json").exists() else None,
    }
    return details
