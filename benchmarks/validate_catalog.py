"""Benchmark: validate a generated catalog of N datalabs (default 10,000).

Prints, measured in the same run on the same files:
- baseline: only reading and parsing every datalab.yaml with PyYAML's C loader;
- `sciapps validate`'s whole work (schema, every rule, notebooks, screenshots);
- their ratio (target: at most 2x);
- peak memory (RSS) validating a tenth of the catalog and all of it (target: flat).

Run: .venv/bin/python benchmarks/validate_catalog.py [--count N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = REPO / "tests" / "datalabs" / "valid" / "full"
MISSIONS = ["hipparcos", "xmm-newton", "planck", "euclid", "jwst", "herschel", "integral", "bepicolombo"]


def generate(root: Path, count: int) -> None:
    """A catalog like the real one: metadata, one notebook, one screenshot, requirements."""
    text = (TEMPLATE / "datalab.yaml").read_text()
    notebook = (TEMPLATE / "notebooks" / "main.ipynb").read_bytes()
    shot = io.BytesIO()
    Image.new("RGB", (320, 200), (20, 60, 120)).save(shot, "PNG")
    for i in range(count):
        lab = root / "datalabs" / f"datalab-{i:05d}"
        (lab / "notebooks").mkdir(parents=True)
        (lab / "screenshots").mkdir()
        mission = MISSIONS[i % len(MISSIONS)]
        body = (
            text.replace("id: full", f"id: datalab-{i:05d}")
            .replace("name: Test datalab full", f"name: Generated datalab number {i}")
            .replace("missions: [gaia, xmm-newton]", f"missions: [gaia, {mission}]")
            .replace("keywords: [test]", f"keywords: [generated, k{i % 97}, {mission}]")
        )
        (lab / "datalab.yaml").write_text(body)
        (lab / "notebooks" / "main.ipynb").write_bytes(notebook)
        (lab / "screenshots" / "main.png").write_bytes(shot.getvalue())
        (lab / "icon.png").write_bytes(shot.getvalue())
        (lab / "requirements.txt").write_text("numpy==2.2.6\n")


def parse_only(root: Path) -> tuple[float, int]:
    start = time.perf_counter()
    n = 0
    for path in sorted((root / "datalabs").glob("*/datalab.yaml")):
        with open(path, encoding="utf-8") as fh:
            yaml.load(fh.read(), Loader=yaml.CSafeLoader)
        n += 1
    return time.perf_counter() - start, n


def validate_in_process(root: Path, jobs: int) -> tuple[float, int, int]:
    from sciapps.catalog.validate import Summary, validate
    from sciapps.config import load_config

    config = load_config(REPO / "sciapps.yaml")
    summary = Summary()
    start = time.perf_counter()
    findings = sum(1 for _ in validate([root / "datalabs"], config, summary=summary, jobs=jobs))
    return time.perf_counter() - start, summary.datalabs, findings


def peak_rss_mb(folders: list[Path]) -> float:
    """Peak RSS of a fresh process validating `folders` (passed via a file list)."""
    code = (
        "import json,resource,sys\n"
        "from pathlib import Path\n"
        "from sciapps.catalog.validate import validate\n"
        "from sciapps.config import load_config\n"
        f"config = load_config(Path({str(REPO / 'sciapps.yaml')!r}))\n"
        "paths = [Path(p) for p in json.load(sys.stdin)]\n"
        "n = sum(1 for _ in validate(paths, config, jobs=1))\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], input=json.dumps([str(f) for f in folders]), capture_output=True, text=True, check=True
    )
    return float(proc.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3, help="take the best of this many runs of each timing")
    parser.add_argument("--keep", type=Path, help="generate the catalog here and keep it")
    args = parser.parse_args()

    root = args.keep or Path(tempfile.mkdtemp(prefix="sciapps-bench-"))
    try:
        t0 = time.perf_counter()
        generate(root, args.count)
        print(f"generated {args.count:,} datalabs in {time.perf_counter() - t0:.1f} s under {root}")
        parse_only(root)  # warm the page cache for both measurements
        base = min(parse_only(root)[0] for _ in range(args.repeat))
        from sciapps.catalog.validate import default_jobs

        jobs = default_jobs()
        print(
            f"baseline, read + parse datalab.yaml (C loader, 1 process): {base:6.2f} s  {base / args.count * 1e6:5.0f} us/datalab"
        )
        for label, n in (("1 process", 1), (f"{jobs} processes (the default)", jobs)):
            runs = [validate_in_process(root, n) for _ in range(args.repeat)]
            whole = min(r[0] for r in runs)
            _, checked, findings = runs[0]
            assert checked == args.count and findings == 0, (checked, findings)
            ratio = whole / base
            verdict = "met" if ratio <= 2 else "NOT met"
            print(
                f"sciapps validate, all rules, {label:24} {whole:6.2f} s  {whole / args.count * 1e6:5.0f} us/datalab"
                f"  = {ratio:.2f}x baseline (target <= 2x: {verdict})"
            )
        folders = sorted((root / "datalabs").iterdir())
        small = peak_rss_mb(folders[: max(1, args.count // 10)])
        large = peak_rss_mb(folders)
        print(
            f"peak RSS: {small:.0f} MB for {max(1, args.count // 10):,} datalabs, {large:.0f} MB for {args.count:,} "
            f"(growth {large - small:+.0f} MB for {args.count - args.count // 10:,} more datalabs)"
        )
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
