"""Matching installed packages against OSV advisories from a local mirror.

The mirror is a folder of OSV records, `<ecosystem>/<id>.json`, as OSV publishes them
(`sciapps osv-sync` fills it from OSV's exports; ESA infrastructure may be air-gapped).
Version ranges are evaluated with each ecosystem's own ordering: PEP 440 for PyPI
(`packaging`), Debian's for Debian (`python-debian`). A record that cannot be read makes
the whole match fail: a silently smaller database would pass images it should not.
"""

from __future__ import annotations

import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable


from sciapps.scanning.base import ScannerError

ECOSYSTEMS = ("PyPI", "Debian")
OSV_EXPORTS = "https://osv-vulnerabilities.storage.googleapis.com"
SEVERITY = {"CRITICAL": "critical", "HIGH": "high", "MODERATE": "medium", "MEDIUM": "medium", "LOW": "low"}
URGENCY = {"unimportant": "low", "low": "low", "medium": "medium", "high": "high"}
MAX_EXPORT_BYTES = 2 * 1024**3  # one ecosystem's all.zip (PyPI's is tens of MiB, Debian's a few hundred)
MAX_RECORD_BYTES = 8 * 1024**2  # one advisory (the largest real ones are a few hundred KiB)
MAX_EXPORT_RECORDS = 1_000_000
MAX_EXPORT_TOTAL_BYTES = 8 * 1024**3  # every advisory of one export, inflated
DOWNLOAD_DEADLINE_S = 1800
RECORD_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}\.json$")


def normalize(ecosystem: str, name: str) -> str:
    if ecosystem == "PyPI":
        return re.sub(r"[-_.]+", "-", name).lower()  # PEP 503
    return name


def family(ecosystem: str) -> str:
    return ecosystem.split(":", 1)[0]


def _key(ecosystem: str) -> Callable[[str], object]:
    """The version ordering of an ecosystem (imported here: the scanners are the full install's)."""
    if family(ecosystem) == "PyPI":
        from packaging.version import Version

        return Version
    if family(ecosystem) == "Debian":
        from debian.debian_support import Version

        return Version
    raise ValueError(ecosystem)


def is_affected(affected: dict, version: str, ecosystem: str) -> bool:
    """Does one `affected` entry of an OSV record cover `version`? (OSV schema semantics)"""
    if version in affected.get("versions", []):
        return True
    key = _key(ecosystem)
    try:
        installed = key(version)
    except ValueError:  # packaging's InvalidVersion is one
        return False
    for r in affected.get("ranges", []):
        if r.get("type") not in ("ECOSYSTEM", "SEMVER"):
            continue
        state = False
        events = [next(iter(event.items())) for event in r.get("events", [])]
        try:
            events.sort(key=lambda e: (0,) if e[1] == "0" else (1, key(e[1])))
        except (ValueError, TypeError):
            continue
        for kind, value in events:
            if kind == "introduced":
                if value == "0" or installed >= key(value):
                    state = True
            elif kind == "fixed":
                if installed >= key(value):
                    state = False
            elif kind == "last_affected":
                if installed > key(value):
                    state = False
            elif kind == "limit":
                if installed >= key(value):
                    state = False
        if state:
            return True
    return False


def severity_of(record: dict, affected: dict) -> str:
    db = (record.get("database_specific") or {}).get("severity")
    if isinstance(db, str) and db.upper() in SEVERITY:
        return SEVERITY[db.upper()]
    urgency = (affected.get("ecosystem_specific") or {}).get("urgency")
    if isinstance(urgency, str) and urgency.lower() in URGENCY:
        return URGENCY[urgency.lower()]
    return "medium"  # no severity in the record: neither ignored nor an automatic block


def fixed_version(affected: dict) -> str | None:
    for r in affected.get("ranges", []):
        for event in r.get("events", []):
            if "fixed" in event:
                return event["fixed"]
    return None


@dataclass
class Mirror:
    folder: Path
    index: dict[tuple[str, str], list[tuple[dict, dict]]] = field(default_factory=dict)
    records: int = 0

    @classmethod
    def load(cls, folder: Path) -> "Mirror":
        if not folder.is_dir():
            raise ScannerError(f"no OSV mirror at {folder}: run `sciapps osv-sync` (or set osv_mirror in sciapps.yaml)")
        mirror = cls(folder)
        for path in sorted(folder.glob("*/*.json")):
            try:
                if path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_RECORD_BYTES:
                    raise ValueError(f"not a regular file of at most {MAX_RECORD_BYTES // 1024**2} MiB")
                record = json.loads(path.read_text(encoding="utf-8"))
                if not isinstance(record, dict) or "id" not in record:
                    raise ValueError("not an OSV record (no id)")
                if record.get("withdrawn"):
                    continue
                for affected in record.get("affected", []):
                    package = affected["package"]
                    mirror.index.setdefault(
                        (package["ecosystem"], normalize(family(package["ecosystem"]), package["name"])), []
                    ).append((record, affected))
            except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
                raise ScannerError(
                    f"{path}: unreadable OSV record ({exc}); fix or delete it, or run `sciapps osv-sync` again"
                ) from None
            mirror.records += 1
        if mirror.records == 0:
            raise ScannerError(f"the OSV mirror {folder} is empty: run `sciapps osv-sync`")
        return mirror

    def matches(self, ecosystem: str, name: str, version: str) -> list[tuple[dict, dict]]:
        found = self.index.get((ecosystem, normalize(family(ecosystem), name)), [])
        return [(record, affected) for record, affected in found if is_affected(affected, version, ecosystem)]


class ExportRefused(Exception):
    """An export that is not OSV's: too large, too many records, a record that inflates
    past its bound, or not a zip file."""


def _download(url: str, archive: Path) -> None:
    """`url` into `archive`, at most MAX_EXPORT_BYTES, within DOWNLOAD_DEADLINE_S."""
    import time
    import urllib.request

    started, size = time.monotonic(), 0
    with urllib.request.urlopen(url, timeout=120) as response, open(archive, "wb") as out:
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > MAX_EXPORT_BYTES:
            raise ExportRefused(f"it is {int(declared):,} bytes, more than the {MAX_EXPORT_BYTES:,} bytes an export may be")
        while chunk := response.read(1024 * 1024):
            size += len(chunk)
            if size > MAX_EXPORT_BYTES:
                raise ExportRefused(f"it is more than the {MAX_EXPORT_BYTES:,} bytes an export may be")
            if time.monotonic() - started > DOWNLOAD_DEADLINE_S:
                raise ExportRefused(f"it took more than {DOWNLOAD_DEADLINE_S} s to download")
            out.write(chunk)


def _unpack(archive: Path, staging: Path) -> int:
    """The advisories of an export (`<id>.json` at its top) into `staging`, each read with
    its bound whatever size the zip declares: a member that inflates past it, or an export
    whose records together do, is refused; nothing else of the zip is written."""
    import zlib

    count, total = 0, 0
    try:
        with zipfile.ZipFile(archive) as z:
            for info in z.infolist():
                if info.is_dir() or not RECORD_NAME.match(info.filename):
                    continue
                count += 1
                if count > MAX_EXPORT_RECORDS:
                    raise ExportRefused(f"it holds more than {MAX_EXPORT_RECORDS:,} records")
                if info.file_size > MAX_RECORD_BYTES:
                    raise ExportRefused(
                        f"its member {info.filename[:80]!r} inflates to {info.file_size:,} bytes, "
                        f"more than the {MAX_RECORD_BYTES // 1024**2} MiB an advisory may be"
                    )
                with z.open(info) as member:
                    data = member.read(MAX_RECORD_BYTES + 1)
                if len(data) > MAX_RECORD_BYTES:
                    raise ExportRefused(
                        f"its member {info.filename[:80]!r} inflates to more than {MAX_RECORD_BYTES // 1024**2} MiB"
                    )
                total += len(data)
                if total > MAX_EXPORT_TOTAL_BYTES:
                    raise ExportRefused(f"its records inflate to more than {MAX_EXPORT_TOTAL_BYTES // 1024**3} GiB")
                (staging / info.filename).write_bytes(data)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, ValueError) as exc:
        raise ExportRefused(f"it is not a readable zip file ({type(exc).__name__}: {str(exc)[:120]})") from None
    return count


def sync(folder: Path, ecosystems: tuple[str, ...] = ECOSYSTEMS, source: str = OSV_EXPORTS, log=print) -> dict[str, int]:
    """Download OSV's export of each ecosystem and replace the mirror's copy atomically. An
    export is hostile until read: bounded in download size and time, in records, and in what
    each record and all of them inflate to; a refused one leaves the mirror as it was."""
    import shutil
    import tempfile

    from sciapps.errors import SciAppsError

    counts = {}
    folder.mkdir(parents=True, exist_ok=True)
    for ecosystem in ecosystems:
        url = f"{source.rstrip('/')}/{ecosystem}/all.zip"
        log(f"downloading {url}")
        with tempfile.TemporaryDirectory(dir=folder, prefix=f".{ecosystem}-") as tmp:
            archive = Path(tmp) / "all.zip"
            staging = Path(tmp) / ecosystem
            staging.mkdir()
            try:
                _download(url, archive)
                found = _unpack(archive, staging)
            except ExportRefused as exc:
                raise SciAppsError(
                    f"refusing OSV's {ecosystem} export from {url}: {exc}",
                    "check OSV_SOURCE (or --source): it must serve OSV's own exports; the mirror is unchanged",
                ) from None
            except OSError as exc:
                raise SciAppsError(
                    f"cannot download {url}: {exc}", "check the network, or copy an OSV export into the mirror by hand"
                ) from None
            archive.unlink()
            target = folder / ecosystem
            old = folder / f".{ecosystem}.old"
            shutil.rmtree(old, ignore_errors=True)
            if target.exists():
                target.rename(old)
            staging.rename(target)
            shutil.rmtree(old, ignore_errors=True)
            counts[ecosystem] = found
            log(f"{ecosystem}: {found} records")
    return counts
