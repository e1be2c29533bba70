"""The last line of defence: an unexpected error becomes a log file and exit code 3."""

from __future__ import annotations

import os
import platform
import sys
import tempfile
import traceback
from pathlib import Path

from sciapps import __version__


def log_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "sciapps"


def write_crash_log(exc: BaseException) -> Path:
    """Write the traceback and versions to a log a user can attach to an issue."""
    text = (
        f"sciapps {__version__}\npython {sys.version.split()[0]} on {platform.platform()}\n"
        f"command: {' '.join(sys.argv)}\n\n" + "".join(traceback.format_exception(exc))
    )
    for folder in (log_dir(), Path(tempfile.gettempdir())):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / "sciapps-error.log"
            path.write_text(text, encoding="utf-8")
            return path
        except OSError:
            continue
    raise exc
