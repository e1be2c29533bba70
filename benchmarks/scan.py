"""Benchmark: `sciapps scan`, each scanner timed separately.

- the example catalog (its images are built first when needed);
- one large datalab: 1,000 files (Python modules, notebooks, data) on jl_base.

Run: .venv/bin/python benchmarks/scan.py   (needs Docker and `sciapps base-images build`)
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MIRROR = REPO / "tests" / "scanning" / "osv"


def large_datalab(root: Path) -> Path:
    lab = root / "datalabs" / "large-datalab"
    notebook = json.loads((REPO / "datalabs" / "gaia-dr3-hrd" / "notebooks" / "hr_diagram.ipynb").read_text())
    (lab / "notebooks").mkdir(parents=True)
    (lab / "analysis").mkdir()
    (lab / "data").mkdir()
    for i in range(200):
        (lab / "notebooks" / f"step_{i:03d}.ipynb").write_text(json.dumps(notebook))
    for i in range(600):
        (lab / "analysis" / f"module_{i:03d}.py").write_text(
            "import numpy as np\n\n" + "".join(f"def f{j}(x):\n    return np.sqrt(x) * {j}\n\n" for j in range(40))
        )
    row = ",".join(f"{v:.6f}" for v in range(12)) + "\n"
    for i in range(199):
        (lab / "data" / f"table_{i:03d}.csv").write_text(row * 2000)
    (lab / "datalab.yaml").write_text(
        "id: large-datalab\nname: Large datalab\nsummary: One thousand files to scan, for the benchmark.\nversion: 1.0.0\n"
        "type: jupyterlab\nentry: notebooks/step_000.ipynb\n"
        "maintainers: [{name: Ada Example, email: ada@example.org, username: aexample}]\nlicense: MIT\nstatus: published\n"
        "exceptions: [{rule: DL-034, reason: the benchmark needs a thousand files}]\n"
    )
    (lab / "requirements.txt").write_text("numpy==2.2.6\n")
    return lab


def main() -> None:
    from sciapps.catalog.loader import load_datalab, resolve
    from sciapps.config import load_config
    from sciapps.engine import Engine
    from sciapps.images.build import ensure_image
    from sciapps.scanning.policy import load_policy
    from sciapps.scanning.scan import scan
    from sciapps.stages.scan import make_target

    config = load_config(REPO / "sciapps.yaml")
    policy = load_policy(REPO / "scan-policy.yaml")
    quiet = lambda line: None  # noqa: E731
    totals: dict[str, float] = defaultdict(float)
    labs = resolve(config, sorted(p.name for p in (REPO / "datalabs").iterdir() if p.is_dir()))
    start = time.perf_counter()
    for lab in labs:
        image = ensure_image(Engine(), config, lab, quiet)
        report = scan(make_target(config, lab, image, policy, MIRROR), policy, log=quiet)
        for outcome in report.outcomes:
            totals[outcome.scanner] += outcome.seconds
    whole = time.perf_counter() - start
    print(f"example catalog, {len(labs)} datalabs: {whole:.1f} s in all")
    for name, seconds in totals.items():
        print(f"  {name:13} {seconds:6.2f} s")

    work = Path(tempfile.mkdtemp(prefix="sciapps-scan-bench-"))
    try:
        folder = large_datalab(work)
        files = sum(1 for p in folder.rglob("*") if p.is_file())
        size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
        lab = load_datalab(folder, config.limits)
        image = ensure_image(Engine(), config, lab, quiet)
        image_mb = Engine().image(image)["Size"] / 1e6
        start = time.perf_counter()
        report = scan(make_target(config, lab, image, policy, MIRROR), policy, log=quiet)
        print(
            f"large datalab, {files:,} files ({size / 1e6:.0f} MB), image "
            f"{image_mb:.0f} MB: {time.perf_counter() - start:.1f} s in all"
        )
        for outcome in report.outcomes:
            print(f"  {outcome.scanner:13} {outcome.seconds:6.2f} s  {outcome.status}, {len(outcome.findings)} finding(s)")
        Engine().untag(image)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
