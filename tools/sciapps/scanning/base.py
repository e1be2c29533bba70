"""What a scanner is and what it finds.

A scanner is a small class with a `name`, `needs_image`, `skip_reason(target)` (why it
has nothing to do for this target, or None) and `scan(target)` returning findings; the
list of scanners is explicit in `sciapps.scanning.scanners`, and the runner asks each
the same questions, never which one it is. Each runs in
its own process with a time limit (`isolate`), so a scanner that crashes or hangs is
reported as failed, which fails the gate, instead of passing silently.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import subprocess
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, ClassVar, Protocol


SEVERITIES = ("info", "low", "medium", "high", "critical")


def rank(severity: str) -> int:
    return SEVERITIES.index(severity)


@dataclass(frozen=True)
class ScanFinding:
    scanner: str
    rule: str  # the tool's rule or advisory id: "B602", "DL3008", "GHSA-...", "AWSKeyDetector"
    severity: str
    kind: str  # "secret", "dockerfile", "code", "policy", "vulnerability"
    title: str
    file: str | None = None
    line: int | None = None
    package: str | None = None  # for vulnerabilities: name, version, ecosystem, fixed
    version: str | None = None
    ecosystem: str | None = None
    fixed: str | None = None
    aliases: tuple[str, ...] = ()
    url: str | None = None

    @property
    def fingerprint(self) -> str:
        key = "\0".join(str(x) for x in (self.scanner, self.rule, self.file, self.line, self.package, self.version))
        return hashlib.sha256(key.encode()).hexdigest()[:16]

    def as_dict(self) -> dict:
        return {**asdict(self), "aliases": list(self.aliases), "fingerprint": self.fingerprint}


@dataclass
class Outcome:
    scanner: str
    status: str  # "ok", "failed", "skipped"
    seconds: float
    findings: list[ScanFinding] = field(default_factory=list)
    message: str = ""


class Scanner(Protocol):
    name: ClassVar[str]
    needs_image: ClassVar[bool]

    def skip_reason(self, target: Any) -> str | None:
        """Why there is nothing to scan in this `scanning.target.Target` (the tool is
        missing, the datalab has no Dockerfile...), or None to scan it."""

    def scan(self, target: Any) -> list[ScanFinding]: ...


class ScannerError(Exception):
    """A scanner could not do its job; the message says why."""


def run_tool(command: list[str], timeout: float, stdin: str | None = None) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError:
        raise ScannerError(f"{command[0]} is not installed") from None
    except subprocess.TimeoutExpired:
        raise ScannerError(f"{command[0]} did not finish within {timeout:.0f} s") from None


def _child(scanner: Scanner, target: Any, conn) -> None:
    try:
        findings = scanner.scan(target)
        conn.send(("ok", [asdict(f) for f in findings]))
    except ScannerError as exc:
        conn.send(("failed", str(exc)))
    except BaseException as exc:  # a crash of the scanner or its tool
        conn.send(("failed", f"crashed: {type(exc).__name__}: {exc}\n{traceback.format_exc(limit=3)}"))
    finally:
        conn.close()


def isolate(scanner: Scanner, target: Any, timeout: float) -> Outcome:
    """Run one scanner in a child process; a crash or a timeout makes it 'failed'."""
    start = time.perf_counter()
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(scanner, target, child), daemon=True)
    proc.start()
    child.close()
    result: Any = None
    if parent.poll(timeout):
        try:
            result = parent.recv()
        except EOFError:
            result = None
    proc.join(5)
    if proc.is_alive():
        proc.kill()
        proc.join()
    seconds = time.perf_counter() - start
    if result is None:
        why = f"did not finish within {timeout:.0f} s" if proc.exitcode in (None, -9) else f"exited with code {proc.exitcode}"
        return Outcome(scanner.name, "failed", seconds, message=why)
    status, payload = result
    if status == "failed":
        return Outcome(scanner.name, "failed", seconds, message=payload)
    findings = [ScanFinding(**{**f, "aliases": tuple(f["aliases"])}) for f in payload]
    return Outcome(scanner.name, "ok", seconds, findings)


def read_text(path: Path, limit: int) -> str | None:
    """A file's text, or None when it is too large or not UTF-8 text (binary)."""
    try:
        if path.stat().st_size > limit:
            return None
        data = path.read_bytes()
    except OSError:
        return None
    if b"\0" in data[:8192]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def dumps(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=True, default=str) + "\n"


Callback = Callable[[str], None]
