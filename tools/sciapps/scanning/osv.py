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

from debian.debian_support import Version as DebianVersion
from packaging.version import InvalidVersion, Version as PyPIVersion

from sciapps.scanning.base import ScannerError

ECOSYSTEMS = ("PyPI", "Debian")
OSV_EXPORTS = "https://osv-vulnerabilities.storage.googleapis.com"
SEVERITY = {"CRITICAL": "critical", "HIGH": "high", "MODERATE": "medium", "MEDIUM": "medium", "LOW": "low"}
URGENCY = {"unimportant": "low", "low": "low", "medium": "medium", "high": "high"}


def normalize(ecosystem: str, name: str) -> str:
    if ecosystem == "PyPI":
        return re.sub(r"[-_.]+", "-", name).lower()  # PEP 503
    return name


def family(ecosystem: str) -> str:
    return ecosystem.split(":", 1)[0]


def _key(ecosystem: str) -> Callable[[str], object]:
    if family(ecosystem) == "PyPI":
        return PyPIVersion
    if family(ecosystem) == "Debian":
        return DebianVersion
    raise ValueError(ecosystem)


def is_affected(affected: dict, version: str, ecosystem: str) -> bool:
    """Does one `affected` entry of an OSV record cover `version`? (OSV schema semantics)"""
    if version in affected.get("versions", []):
        return True
    key = _key(ecosystem)
    try:
        installed = key(version)
    except (InvalidVersion, ValueError):
        return False
    for r in affected.get("ranges", []):
        if r.get("type") not in ("ECOSYSTEM", "SEMVER"):
            continue
        state = False
        events = [next(iter(event.items())) for event in r.get("events", [])]
        try:
            events.sort(key=lambda e: (0,) if e[1] == "0" else (1, key(e[1])))
        except (InvalidVersion, ValueError, TypeError):
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
                record = json.loads(path.read_text(encoding="utf-8"))
                if not isinstance(record, dict) or "id" not in record:
                    raise ValueError("not an OSV record (no id)")
                if record.get("withdrawn"):
                    continue
                for affected in record.get("affected", []):
                    package = affected["package"]
                    mirror.index.setdefault((package["ecosystem"], normalize(family(package["ecosystem"]), package["name"])), []).append(
                        (record, affected)
                    )
            except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
                raise ScannerError(f"{path}: unreadable OSV record ({exc}); fix or delete it, or run `sciapps osv-sync` again") from None
            mirror.records += 1
        if mirror.records == 0:
            raise ScannerError(f"the OSV mirror {folder} is empty: run `sciapps osv-sync`")
        return mirror

    def matches(self, ecosystem: str, name: str, version: str) -> list[tuple[dict, dict]]:
        found = self.index.get((ecosystem, normalize(family(ecosystem), name)), [])
        return [(record, affected) for record, affected in found if is_affected(affected, version, ecosystem)]


def sync(folder: Path, ecosystems: tuple[str, ...] = ECOSYSTEMS, source: str = OSV_EXPORTS, log=print) -> dict[str, int]:
    """Download OSV's export of each ecosystem and replace the mirror's copy atomically."""
    import shutil
    import tempfile
    import urllib.request

    from sciapps.errors import SciAppsError

    counts = {}
    folder.mkdir(parents=True, exist_ok=True)
    for ecosystem in ecosystems:
        url = f"{source.rstrip('/')}/{ecosystem}/all.zip"
        log(f"downloading {url}")
        with tempfile.TemporaryDirectory(dir=folder, prefix=f".{ecosystem}-") as tmp:
            archive = Path(tmp) / "all.zip"
            try:
                with urllib.request.urlopen(url, timeout=120) as response, open(archive, "wb") as out:
                    shutil.copyfileobj(response, out)
                with zipfile.ZipFile(archive) as z:
                    names = [n for n in z.namelist() if n.endswith(".json") and "/" not in n and not n.startswith(".")]
                    staging = Path(tmp) / ecosystem
                    staging.mkdir()
                    for name in names:
                        (staging / name).write_bytes(z.read(name))
            except (OSError, zipfile.BadZipFile) as exc:
                raise SciAppsError(f"cannot download {url}: {exc}", "check the network, or copy an OSV export into the mirror by hand") from None
            target = folder / ecosystem
            old = folder / f".{ecosystem}.old"
            shutil.rmtree(old, ignore_errors=True)
            if target.exists():
                target.rename(old)
            staging.rename(target)
            shutil.rmtree(old, ignore_errors=True)
            counts[ecosystem] = len(names)
            log(f"{ecosystem}: {len(names)} records")
    return counts
