"""`sciapps audit`: every published release's SBOM against a fresh OSV mirror, without
rebuilding anything.

For each published datalab, each release whose record verifies is checked: the SBOM kept
beside its record (`sciapps releases sync`; used only when its digest is the one the signed
record names) against the mirror, with the scan's own matching and the scan policy. An
advisory at or above the policy's blocking severity, and not covered by a reviewed
exception in `scan-policy.yaml`, is new since publication (the scan would have blocked it).
The result is `build/audit.json`, which the store shows on each version; with `--notify`,
each affected datalab's maintainers get one GitLab issue, updated rather than duplicated,
and closed once nothing blocks any more. One SBOM is read at a time: memory does not grow
with the number of releases.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from sciapps.catalog.loader import discover, metadata_of
from sciapps.config import Config
from sciapps.text import md_code, md_link
from sciapps.revisits.exports import AUDIT_FILE
from sciapps.revisits.issues import maintainers_issues
from sciapps.errors import SciAppsError
from sciapps.releases.mirror import Mirror as Releases, read_sbom
from sciapps.releases.signing import public_key
from sciapps.safefiles import write_atomically
from sciapps.scanning.base import ScannerError
from sciapps.scanning.osv import Mirror as Advisories
from sciapps.scanning.policy import load_policy
from sciapps.scanning.scanners.sbom import sbom_packages
from sciapps.scanning.scanners.vulnerabilities import match
from sciapps.schema import is_datalab_id

Log = Callable[[str], None]


@dataclass
class AuditReport:
    checked: str
    releases: dict[str, dict] = field(default_factory=dict)  # "<id>/<digest hex>" -> what blocks it now
    unchecked: dict[str, str] = field(default_factory=dict)  # "<id>/<digest hex>" -> why not
    osv_records: int = 0

    def found(self) -> bool:
        return bool(self.blocking())

    def blocking(self) -> dict[str, list[dict]]:
        """{datalab id: its releases that something blocks now}."""
        out: dict[str, list[dict]] = {}
        for entry in self.releases.values():
            if entry["advisories"]:
                out.setdefault(entry["datalab"], []).append(entry)
        return out


def run(config: Config, log: Log, osv_mirror: Path | None = None, today: datetime.date | None = None) -> AuditReport:
    today = today or datetime.date.today()
    try:
        advisories = Advisories.load(osv_mirror or config.path_of(config.osv_mirror))
    except ScannerError as exc:
        raise SciAppsError(str(exc), "run `sciapps osv-sync` (the audit schedule does, before it)") from None
    policy = load_policy(config.path_of(config.scan_policy))
    releases = Releases(config.path_of(config.releases_dir), public_key(config.path_of(config.release_key)))
    report = AuditReport(
        datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"), osv_records=advisories.records
    )
    folders = discover([config.catalog]) if config.catalog.is_dir() else []
    for folder in folders:
        if not is_datalab_id(folder.name) or (metadata_of(folder, config.limits) or {}).get("status") != "published":
            continue
        for judged in releases.releases(folder.name):
            if not judged.verified:
                continue
            r = judged.release
            key = f"{r.datalab}/{r.key}"
            data = read_sbom(releases.out, r)
            try:
                sbom = json.loads(data) if data is not None else None
            except (ValueError, UnicodeDecodeError):
                sbom = None
            if not isinstance(sbom, dict):
                report.unchecked[key] = "no SBOM that matches its record (run `sciapps releases sync`)"
                continue
            blocking = []
            for finding in match(advisories, sbom_packages(sbom), "audit"):
                blocks, why = policy.verdict(finding, r.datalab, today)
                if blocks:
                    blocking.append(
                        {
                            "id": finding.rule,
                            "package": finding.package,
                            "version": finding.version,
                            "severity": finding.severity,
                            "fixed": finding.fixed,
                            "url": finding.url,
                            "why": why,
                        }
                    )
            report.releases[key] = {
                "datalab": r.datalab,
                "version": r.version,
                "build": r.build,
                "image": r.image,
                "advisories": sorted(blocking, key=lambda a: (a["id"], a["package"] or "")),
            }
    write_atomically(
        config.path_of(AUDIT_FILE),
        json.dumps(
            {
                "checked": report.checked,
                "osv_records": report.osv_records,
                "releases": report.releases,
                "unchecked": report.unchecked,
            },
            sort_keys=True,
        )
        + "\n",
    )
    for datalab, affected in sorted(report.blocking().items()):
        for entry in affected:
            log(
                f"{datalab} {entry['version']} build {entry['build']}: {len(entry['advisories'])} new advisor"
                f"{'y' if len(entry['advisories']) == 1 else 'ies'} since "
                f"publication: {', '.join(a['id'] for a in entry['advisories'][:5])}"
            )
    log(
        f"audited {len(report.releases)} release(s) against {report.osv_records:,} advisories; "
        f"{sum(len(v) for v in report.blocking().values())} with new blocking "
        f"advisories; {len(report.unchecked)} without an SBOM to check"
    )
    return report


def issue_body(datalab: str, entries: list[dict], checked: str) -> str:
    """The maintainers' issue: every value from the records and the advisories as code or a
    checked link (`text.md_*`), never as Markdown GitLab would render or run."""
    lines = [
        f"`sciapps audit` found advisories at or above the scan policy's blocking severity in the published "
        f"releases of {md_code(datalab)}, which were not known when they were published (checked {md_code(checked[:10])}).",
        "",
    ]
    for entry in sorted(entries, key=lambda e: (str(e["version"]), str(e["build"]))):
        lines.append(f"### {md_code(entry['version'])} build {md_code(entry['build'])} ({md_code(entry['image'])})")
        for a in entry["advisories"][:100]:
            fixed = f", fixed in {md_code(a['fixed'])}" if a.get("fixed") else ""
            lines.append(
                f"- {md_link(a['id'], a.get('url', ''))}: {md_code(a['package'])} {md_code(a['version'])}, "
                f"{md_code(a['severity'])}{fixed}"
            )
        lines.append("")
    lines += [
        "Publish a new version with fixed packages (or, after review, add an exception with a reason and an expiry to "
        "`scan-policy.yaml`). This issue is updated by every audit and closed when nothing blocks any more."
    ]
    return "\n".join(lines)


def notify(config: Config, report: AuditReport, token: str | None, log: Log) -> dict[str, str]:
    """The audit's maintainers' issues (`maintainers_issues`, cause "audit")."""
    bodies = {datalab: issue_body(datalab, entries, report.checked) for datalab, entries in report.blocking().items()}
    return maintainers_issues(
        config, "audit", bodies, "Security advisories in the published releases of {id}", report.checked, token, log
    )
