"""trivy, when it is on the PATH: its image findings are merged with the others."""

from __future__ import annotations

import json
import shutil

from sciapps.scanning.base import ScanFinding, ScannerError, run_tool
from sciapps.scanning.target import Target

SEVERITY = {"CRITICAL": "critical", "HIGH": "high", "MEDIUM": "medium", "LOW": "low", "UNKNOWN": "medium"}


class TrivyScanner:
    name = "trivy"
    needs_image = True

    def skip_reason(self, target: Target) -> str | None:
        return None if shutil.which("trivy") else "trivy is not on the PATH"

    def scan(self, target: Target) -> list[ScanFinding]:
        proc = run_tool(
            ["trivy", "image", "--quiet", "--format", "json", "--skip-db-update", "--offline-scan", target.image], timeout=600
        )
        if proc.returncode != 0:
            raise ScannerError(f"trivy failed: {proc.stderr.strip()[-300:]}")
        report = json.loads(proc.stdout or "{}")
        return [
            ScanFinding(
                self.name,
                v["VulnerabilityID"],
                SEVERITY.get(v.get("Severity", "UNKNOWN"), "medium"),
                "vulnerability",
                v.get("Title") or v["VulnerabilityID"],
                package=v.get("PkgName"),
                version=v.get("InstalledVersion"),
                ecosystem=result.get("Type"),
                fixed=v.get("FixedVersion"),
                url=v.get("PrimaryURL"),
            )
            for result in report.get("Results", [])
            for v in result.get("Vulnerabilities") or []
        ]
