"""Exit codes and the errors that map to them.

0 ok, 1 findings, 2 usage or setup error (bad arguments, a bad sciapps.yaml, a missing
service), 3 internal error (a bug: the traceback goes to a log file, never to the screen).
"""

from __future__ import annotations

OK = 0
FINDINGS = 1
USAGE = 2
INTERNAL = 3


class SciAppsError(Exception):
    """An error a user can fix: printed as one message with its remedy, exit code 2."""

    exit_code = USAGE

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  hint: {self.hint}" if self.hint else self.message


class Refused(SciAppsError):
    """A request refused for what it asks (a bad launch value, an unverified release): exit 1."""

    exit_code = FINDINGS
