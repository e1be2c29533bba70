"""Python code in .py files and notebook code cells (bandit)."""

from __future__ import annotations

import json
import re
import sys
import tempfile
from pathlib import Path

from sciapps.scanning.base import ScanFinding, ScannerError, read_text, run_tool
from sciapps.scanning.target import Target

SEVERITY = {"HIGH": "high", "MEDIUM": "medium", "LOW": "low"}
MAGIC = re.compile(r"^(\s*)([%!])")


def notebook_source(text: str) -> list[tuple[int, str]]:
    """(cell number, code) for each code cell; IPython magics and shell lines commented out."""
    try:
        notebook = json.loads(text)
    except json.JSONDecodeError:
        return []
    cells = []
    for number, cell in enumerate(notebook.get("cells", []), 1):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        cells.append((number, "\n".join(MAGIC.sub(r"\1# \2", line) for line in source.splitlines()) + "\n"))
    return cells


class PythonCodeScanner:
    name = "bandit"
    needs_image = False

    def skip_reason(self, target: Target) -> str | None:
        return None

    def scan(self, target: Target) -> list[ScanFinding]:
        with tempfile.TemporaryDirectory(prefix="sciapps-bandit-") as tmp:
            where: dict[str, tuple[str, str]] = {}  # temp file -> (datalab file, cell label)
            for entry in target.lab.files:
                if entry.kind != "file" or not entry.path.endswith((".py", ".ipynb")):
                    continue
                text = read_text(target.lab.dir / entry.path, 10 * 1024 * 1024)
                if text is None:
                    continue
                pieces = notebook_source(text) if entry.path.endswith(".ipynb") else [(0, text)]
                for number, code in pieces:
                    temp = Path(tmp) / f"f{len(where)}.py"
                    temp.write_text(code, encoding="utf-8")
                    where[str(temp)] = (entry.path, f"cell {number}" if number else "")
            if not where:
                return []
            bandit = str(Path(sys.executable).with_name("bandit"))
            proc = run_tool([bandit, "-f", "json", "-q", *where], timeout=120)
            try:
                report = json.loads(proc.stdout)
            except json.JSONDecodeError:
                raise ScannerError(f"bandit gave no report: {proc.stderr.strip()[:300]}") from None
        findings = []
        for issue in report.get("results", []):
            file, cell = where.get(issue["filename"], (issue["filename"], ""))
            title = f"{issue['issue_text']}" + (f" ({cell}, line {issue['line_number']})" if cell else "")
            findings.append(
                ScanFinding(
                    self.name,
                    issue["test_id"],
                    SEVERITY.get(issue["issue_severity"], "low"),
                    "code",
                    title,
                    file,
                    None if cell else issue["line_number"],
                    url=issue.get("more_info"),
                )
            )
        return findings
