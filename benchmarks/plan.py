"""Benchmark: `sciapps plan` over a generated catalog with a base-image change that affects
every datalab, against `git diff --name-only` over the same change, in one run.

The catalog (10,000 datalabs by default) is committed to a fresh Git repository with a copy
of this repository's base-images/, then base-images/datalabs_ubuntu_base/Dockerfile is
changed: every published datalab is built on it. Both commands run as an operator runs them
(a new process each), three times; the fastest of each is kept.

Targets (issue 15): the plan under 2 s, and under 3x the time of `git diff --name-only`.

Run: .venv/bin/python benchmarks/plan.py [--datalabs 10000]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from catalog import REPO, generate  # noqa: E402


def timed(argv: list[str], cwd: Path) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=True)
    return time.perf_counter() - start, proc.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datalabs", type=int, default=10_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sciapps-plan-bench-"))
    try:
        generate(work, args.datalabs)
        shutil.copytree(REPO / "base-images", work / "base-images")
        shutil.copy(REPO / "sciapps.yaml", work / "sciapps.yaml")
        git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.org"]
        subprocess.run(git + ["init", "-q"], cwd=work, check=True)
        subprocess.run(git + ["add", "-A"], cwd=work, check=True)
        subprocess.run(git + ["commit", "-qm", "catalog"], cwd=work, check=True)
        with open(work / "base-images" / "datalabs_ubuntu_base" / "Dockerfile", "a") as fh:
            fh.write("\n# a security fix\n")
        diff, plan = [], []
        for _ in range(3):
            diff.append(timed(["git", "diff", "--name-only", "HEAD"], work)[0])
            seconds, out = timed([sys.executable, "-m", "sciapps", "plan", "--base", "HEAD"], work)
            plan.append(seconds)
        planned = out.strip().splitlines()[-1]
        best_diff, best_plan = min(diff), min(plan)
        print(f"git diff --name-only HEAD: {best_diff * 1000:.0f} ms (runs: {', '.join(f'{d * 1000:.0f}' for d in diff)})")
        print(
            f"sciapps plan --base HEAD over {args.datalabs:,} datalabs: {best_plan:.2f} "
            f"s (runs: {', '.join(f'{p:.2f}' for p in plan)}): {planned}"
        )
        print(
            f"target under 2 s: {'met' if best_plan < 2 else 'NOT met'}; "
            f"target under 3x git diff: {best_plan / best_diff:.1f}x, {'met' if best_plan < 3 * best_diff else 'NOT met'}"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
