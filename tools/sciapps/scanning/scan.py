"""Every scanner on one target, and the policy's verdict on each finding.

Each scanner is asked whether it has anything to do (`skip_reason`) and runs in its own
process (`isolate`). `reports.write_all` then writes scan.md (for moderators),
sbom.cdx.json and GitLab's report formats next to the stage result, which the scan
stage (`sciapps.stages.scan`) records.
"""

from __future__ import annotations

import datetime

from sciapps.scanning.base import Callback, Outcome, ScannerError, isolate
from sciapps.scanning.policy import Policy
from sciapps.scanning.reports import Judged, ScanReport
from sciapps.scanning.scanners import ALL_SCANNERS
from sciapps.scanning.target import Target


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
        why_not = scanner.skip_reason(target)
        if why_not:
            outcomes.append(Outcome(scanner.name, "skipped", 0.0, message=why_not))
            continue
        if scanner.needs_image and not target.image:
            outcomes.append(Outcome(scanner.name, "failed", 0.0, message="no image: build the datalab first"))
            continue
        if scanner.needs_image and inventory_error:
            outcomes.append(Outcome(scanner.name, "failed", 0.0, message=inventory_error))
            continue
        outcome = isolate(scanner, target, policy.scanner_timeout_s)
        outcomes.append(outcome)
        state = {
            "ok": f"{len(outcome.findings)} finding(s)",
            "failed": f"FAILED: {outcome.message.splitlines()[0] if outcome.message else ''}",
        }
        log(f"{target.lab.id}: {scanner.name:12} {outcome.seconds:6.1f} s  {state.get(outcome.status, outcome.message)}")
    judged = []
    for outcome in outcomes:
        for finding in outcome.findings:
            blocks, why = (False, "inventory") if finding.kind == "sbom" else policy.verdict(finding, target.lab.id, today)
            judged.append(Judged(finding, blocks, why))
    return ScanReport(target.lab.id, target.image, outcomes, judged)
