"""Secrets in every file of the datalab, notebook outputs and metadata included (detect-secrets)."""

from __future__ import annotations

import re

from sciapps.scanning.base import ScanFinding, read_text
from sciapps.scanning.target import Target

MAX_BYTES = 20 * 1024 * 1024
# Entropy detectors flag every base64 plot in a notebook's outputs; the others look for
# the shapes of real credentials (cloud keys, tokens, private keys, passwords).
DISABLED = {"Base64HighEntropyString", "HexHighEntropyString"}
# Every enabled detector's pattern contains letters: a line without any (tables of
# numbers, the bulk of sample data) cannot hold one and is not handed to the detectors.
LETTER = re.compile(r"[A-Za-z]")


class SecretsScanner:
    name = "secrets"
    needs_image = False

    def skip_reason(self, target: Target) -> str | None:
        return None

    def scan(self, target: Target) -> list[ScanFinding]:
        from detect_secrets.core.scan import scan_line
        from detect_secrets.settings import default_settings, get_settings

        findings = []
        with default_settings():
            settings = get_settings()
            settings.disable_plugins(*DISABLED)
            for entry in target.lab.files:
                if entry.kind != "file":
                    continue
                text = read_text(target.lab.dir / entry.path, MAX_BYTES)
                if text is None:
                    why = "larger than 20 MB" if entry.size > MAX_BYTES else "binary or not UTF-8"
                    findings.append(
                        ScanFinding(
                            self.name,
                            "not-scanned",
                            "info",
                            "notice",
                            f"{entry.path} was not scanned for secrets: {why}",
                            entry.path,
                        )
                    )
                    continue
                for number, line in enumerate(text.splitlines(), 1):
                    if not LETTER.search(line):
                        continue
                    for secret in scan_line(line):
                        findings.append(
                            ScanFinding(
                                self.name,
                                secret.type.replace(" ", ""),
                                "critical",
                                "secret",
                                f"{secret.type} in {entry.path}",
                                entry.path,
                                number,
                            )
                        )
        return _unique(findings)


def _unique(findings: list[ScanFinding]) -> list[ScanFinding]:
    return list({(f.rule, f.file, f.line): f for f in findings}.values())
