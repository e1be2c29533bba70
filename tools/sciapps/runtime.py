"""SciApps for a pipeline's jobs, made once per pipeline: a wheelhouse every later job installs.

The pipeline's first job (`sciapps`, `trust.PREPARE`) builds the wheels of SciApps and of
every dependency from the revision it trusts, once, and keeps them as its artifact
(`RUNTIME`). Every later job (`trust.SETUP`) installs them with uv into a fresh virtual
environment outside the checkout: no resolution, no index, no build, every wheel checked
against the hash this lock gave it.

This module runs before SciApps is installed (as `python3 -I runtime.py WHEELS OUT`, from
the trusted revision's source), so it imports nothing but the standard library.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import sys
from pathlib import Path

RUNTIME = ".sciapps-runtime"  # in the checkout, only ever as the `sciapps` job's artifact
REQUIREMENTS = "requirements.txt"
INSTALLER = "uv.sha256"
INSTALLER_WHEEL = "uv.whl"
TRUSTED_FILE = "revision"  # the commit the pipeline trusts (a merge request's: its target's head)
MAX_WHEELS = 400
# A wheel's file name (PEP 427): name-version(-build)?-python-abi-platform.whl
WHEEL = re.compile(r"([A-Za-z0-9_.]+)-([A-Za-z0-9_.!+]+)(?:-\d[^-]*)?-[^-]+-[^-]+-[^-]+\.whl")


class LockError(Exception):
    pass


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def lock(wheelhouse: Path, out: Path) -> list[str]:
    """Move the wheels `pip wheel` left in `wheelhouse` to `out/wheels` and write what the
    jobs install from them: `requirements.txt` (every wheel but uv's, `name==version` with
    its sha256, for `uv pip install --require-hashes`) and `uv.sha256` (the installer's own
    wheel, checked before it runs). The requirement lines."""
    wheels = sorted(p for p in wheelhouse.iterdir() if p.is_file() and p.suffix == ".whl")
    if not wheels or len(wheels) > MAX_WHEELS:
        raise LockError(f"{len(wheels)} wheels in {wheelhouse}: expected 1 to {MAX_WHEELS}")
    installers = [w for w in wheels if w.name.startswith("uv-")]
    if len(installers) != 1:
        raise LockError(f"expected one uv wheel in {wheelhouse}, found {len(installers)}")
    (out / "wheels").mkdir(parents=True, exist_ok=False)
    lines = []
    for wheel in wheels:
        match = WHEEL.fullmatch(wheel.name)
        if not match:
            raise LockError(f"{wheel.name} is not a wheel's file name")
        digest = _sha256(wheel)
        if wheel in installers:
            shutil.move(wheel, out / INSTALLER_WHEEL)  # one name: the jobs' setup extracts it by that name
            (out / INSTALLER).write_text(f"{digest}  {INSTALLER_WHEEL}\n")
            continue
        shutil.move(wheel, out / "wheels" / wheel.name)
        lines.append(f"{match[1]}=={match[2]} --hash=sha256:{digest}")
    (out / REQUIREMENTS).write_text("\n".join(lines) + "\n")
    return lines


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python3 -I runtime.py WHEELHOUSE OUT", file=sys.stderr)
        return 2
    try:
        lines = lock(Path(argv[0]), Path(argv[1]))
    except (LockError, OSError) as exc:
        print(f"error: the job's SciApps could not be locked: {exc}", file=sys.stderr)
        return 2
    print(f"SciApps and {len(lines) - 1} dependencies locked in {argv[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
