"""The revisits' exports, which the store reads: `build/audit.json` (every published
release's SBOM against today's advisories) and `build/health.json` (every published
release's tests run again). Each is read bounded; an unreadable export is a problem the
store shows, never an error."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

AUDIT_FILE = "build/audit.json"
HEALTH_FILE = "build/health.json"
MAX_EXPORT_BYTES = 64 * 1024 * 1024


def read_export(path: Path, what: str, keep: Callable[[dict], bool]) -> tuple[dict[str, dict], str, list[str]]:
    """({"<id>/<digest hex>": entry}, the day it was checked, problems) of a revisit's export;
    entries `keep` refuses are left out, and an unreadable export is a problem, never an error."""
    if not path.is_file():
        return {}, "", []
    try:
        if path.stat().st_size > MAX_EXPORT_BYTES:
            raise ValueError(f"larger than {MAX_EXPORT_BYTES // 2**20} MiB")
        data = json.loads(path.read_bytes())
        entries = {k: v for k, v in data["releases"].items() if isinstance(v, dict) and keep(v)}
        return entries, str(data["checked"])[:10], []
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        return {}, "", [f"{path}: not a readable {what} ({str(exc)[:120]}); it is not shown"]


def read_audit(path: Path) -> tuple[dict[str, dict], str, list[str]]:
    """({"<id>/<digest hex>": entry}, when it was checked, problems) of an audit export."""
    return read_export(path, "audit", lambda entry: isinstance(entry.get("advisories"), list))


def read_health(path: Path) -> tuple[dict[str, dict], str, list[str]]:
    """({"<id>/<digest hex>": result}, when it was checked, problems) of a health export."""
    return read_export(path, "health report", lambda entry: isinstance(entry.get("passed"), bool))
