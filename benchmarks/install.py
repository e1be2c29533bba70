"""Benchmark: a newcomer's install, light against full, from a fresh virtual environment
each, in one run.

- light: `pip install .`, what serves, builds and validates the store (README's first command);
- full: `pip install '.[full]'`, with building, scanning, testing, charting, signing,
  launching and moderating (what CI and the pipeline's jobs install).
Each is timed from `python -m venv` to a working `sciapps --help`, with pip's cache off so
that the second install does not profit from the first; size is the environment on disk.
The package index is the machine's (pip's configuration).

Run: .venv/bin/python benchmarks/install.py
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def install(work: Path, spec: str) -> tuple[float, int, int]:
    env = work / "venv"
    source = work / "src"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(".venv", "build", "public*", ".git", "node_modules"))
    quiet = {**os.environ, "PIP_NO_CACHE_DIR": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    begin = time.perf_counter()
    subprocess.run([sys.executable, "-m", "venv", str(env)], check=True)
    subprocess.run(
        [str(env / "bin" / "pip"), "install", "-q", f"{source}{spec}"], check=True, env=quiet, stderr=subprocess.DEVNULL
    )
    subprocess.run([str(env / "bin" / "sciapps"), "--help"], check=True, capture_output=True)
    seconds = time.perf_counter() - begin
    listed = subprocess.run([str(env / "bin" / "pip"), "list", "--format=freeze"], capture_output=True, text=True, check=True)
    return seconds, size(env), len(listed.stdout.splitlines())


def main() -> None:
    rows = []
    for name, spec in (("light: pip install .", ""), ("full: pip install '.[full]'", "[full]")):
        with tempfile.TemporaryDirectory(prefix="sciapps-install-") as tmp:
            rows.append((name, *install(Path(tmp), spec)))
    for name, seconds, bytes_, packages in rows:
        print(f"{name:30} {seconds:6.1f} s  {bytes_ / 2**20:6.0f} MB  {packages:3d} packages")
    (_, light_s, light_b, _), (_, full_s, full_b, _) = rows
    print(f"light against full: {light_s / full_s:.2f}x the time, {light_b / full_b:.2f}x the size")


if __name__ == "__main__":
    main()
