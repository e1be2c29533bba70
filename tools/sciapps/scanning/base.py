"""What a scanner is, what it finds, and what it scans.

A scanner is a small class with a `name`, `needs_image`, and `scan(target)` returning
findings; the list of scanners is explicit in `sciapps.scanning.scanners`. Each runs in
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
from functools import cached_property
from pathlib import Path
from typing import Any, Callable, ClassVar, Protocol

from sciapps.catalog.model import Datalab
from sciapps.config import Config

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


@dataclass
class Target:
    """One datalab to scan: its files, its Dockerfile (own or generated), its image."""

    lab: Datalab
    config: Config
    dockerfile: str
    dockerfile_name: str  # "Dockerfile" or "Dockerfile (generated)"
    image: str | None
    base_image: str | None  # image id of the approved base it must be built on
    osv_mirror: Path
    image_size_mb: float
    workdir: Path  # where scanners may write (the SBOM)

    @cached_property
    def inventory(self) -> dict:
        """What is installed in the image (read from the image itself, once)."""
        from sciapps.scanning.inventory import probe

        return probe(self.image)

    @cached_property
    def base_inventory(self) -> dict | None:
        """The approved base image's contents (read once per base image and process)."""
        from sciapps.scanning.inventory import probe_cached

        return probe_cached(self.base_image) if self.base_image else None


class Scanner(Protocol):
    name: ClassVar[str]
    needs_image: ClassVar[bool]

    def scan(self, target: Target) -> list[ScanFinding]: ...


class ScannerError(Exception):
    """A scanner could not do its job; the message says why."""


def run_tool(command: list[str], timeout: float, stdin: str | None = None) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError:
        raise ScannerError(f"{command[0]} is not installed") from None
    except subprocess.TimeoutExpired:
        raise ScannerError(f"{command[0]} did not finish within {timeout:.0f} s") from None


def _child(scanner: Scanner, target: Target, conn) -> None:
    try:
        findings = scanner.scan(target)
        conn.send(("ok", [asdict(f) for f in findings]))
    except ScannerError as exc:
        conn.send(("failed", str(exc)))
    except BaseException as exc:  # a crash of the scanner or its tool
        conn.send(("failed", f"crashed: {type(exc).__name__}: {exc}\n{traceback.format_exc(limit=3)}"))
    finally:
        conn.close()


def isolate(scanner: Scanner, target: Target, timeout: float) -> Outcome:
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
