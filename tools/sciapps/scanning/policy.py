"""The scan policy (scan-policy.yaml): the severity that fails, the reviewed exceptions."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from pathlib import Path


from sciapps.errors import SciAppsError
from sciapps.schema import load_validated
from sciapps.scanning.base import ScanFinding, rank

POLICY_FILE = "scan-policy.yaml"


@dataclass(frozen=True)
class Exception_:
    finding: str
    datalab: str
    reason: str
    expires: str

    def covers(self, finding: ScanFinding, datalab: str) -> bool:
        names = (finding.rule, finding.fingerprint, *finding.aliases, f"{finding.rule}:{finding.file}")
        return self.datalab == datalab and self.finding in names

    def expired(self, today: datetime.date) -> bool:
        return datetime.date.fromisoformat(self.expires) < today


@dataclass(frozen=True)
class Policy:
    fail_at: str = "high"
    image_size_mb: float = 3000
    scanner_timeout_s: float = 600
    exceptions: tuple[Exception_, ...] = field(default_factory=tuple)

    def verdict(self, finding: ScanFinding, datalab: str, today: datetime.date) -> tuple[bool, str]:
        """(does it block publication, why)."""
        if finding.kind == "secret":
            return True, "a secret always blocks publication"
        if rank(finding.severity) < rank(self.fail_at):
            return False, f"below the {self.fail_at} threshold"
        for exc in self.exceptions:
            if exc.covers(finding, datalab):
                if exc.expired(today):
                    return True, f"its exception expired on {exc.expires}"
                return False, f"excepted until {exc.expires}: {exc.reason}"
        return True, f"{finding.severity}, at or above the {self.fail_at} threshold"


def load_policy(path: Path | None) -> Policy:
    if path is None or not path.is_file():
        return Policy()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SciAppsError(f"{path}: cannot read ({exc})", "check the file") from None
    data = load_validated(text, "scan-policy.schema.json", str(path))
    return Policy(
        data.get("fail_at", "high"),
        data.get("image_size_mb", 3000),
        data.get("scanner_timeout_s", 600),
        tuple(Exception_(**e) for e in data.get("exceptions", [])),
    )
