"""Benchmark: the fan-out. A plan of 4 changed datalabs run by gitlab-ci-local as the
pipeline runs it (the plan job, then the child pipeline's chains, build -> scan, test,
chart, whose jobs run in parallel), against the same 4 datalabs through the same stages
in one job, one after another (the pipeline before the fan-out), in one run: the wall-time
ratio.

Each side builds for real: before each, every datalab's requirements.txt gets a line of
its own, so no image and no Docker layer from the other side (or an earlier run) is
reused. Both sides make SciApps once (the sciapps job) and install it in each job the same
way (the pipeline's job setup).
Needs Docker, the approved base images (`sciapps base-images build`), gitlab-ci-local
4.72.0 and rsync, as CI has them.

Run: .venv/bin/python benchmarks/fanout.py [--datalabs gaia-dr3-hrd,...]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
OSV = REPO / "tests" / "scanning" / "osv"
DEFAULT = "euclid-q1-photoz,gaia-dr3-hrd,planck-cmb-map-viewer,xmm-epic-spectrum-fit"


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.org", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def checkout(work: Path, tmpdir: str | None = None) -> Path:
    """A repository of this one's tracked files, with the bases' lock, on `main` (`tmpdir`: the jobs' TMPDIR)."""
    root = work / "catalog"
    names = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout.split(b"\0")
    for name in filter(None, (n.decode() for n in names)):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, root / name, follow_symlinks=False)
    (root / "build").mkdir()
    shutil.copy(REPO / "build" / "base-images.json", root / "build" / "base-images.json")
    variables = {"OSV_MIRROR": str(OSV), **({"TMPDIR": tmpdir} if tmpdir else {})}
    (root / ".gitlab-ci-local-variables.yml").write_text(
        yaml.safe_dump({k: {"type": "variable", "values": {"*": v}} for k, v in variables.items()})
    )
    git(root, "init", "-q", "-b", "main")
    (root / ".git" / "info" / "exclude").write_text(".gitlab-ci-local-variables.yml\n.gitlab-ci-local/\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "catalog")
    return root


def change(root: Path, ids: list[str], run: str) -> None:
    """A new commit that changes every datalab's requirements: all of them build from scratch."""
    for lab in ids:
        with open(root / "datalabs" / lab / "requirements.txt", "a", encoding="utf-8") as fh:
            fh.write(f"# benchmark run {run}\n")
    git(root, "commit", "-qam", f"benchmark {run}")


def one_job(parent: dict, ids: list[str]) -> dict:
    """The same stages in one job, with the pipeline's own job setup (after its sciapps job)."""
    joined = " ".join(ids)
    return {
        "variables": parent.get("variables", {}),
        "default": parent["default"],
        "stages": ["sciapps", "build"],
        "sciapps": parent["sciapps"],
        "all in one job": {
            "stage": "build",
            "script": [
                "sciapps base-images build | tail -3",
                f"sciapps build {joined}",
                f'sciapps scan {joined} --osv-mirror "$OSV_MIRROR"',
                f"sciapps test {joined}",
                f"sciapps chart {joined}",
            ],
        },
    }


def run(root: Path, *args: str) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(["gitlab-ci-local", "--shell-isolation", *args], cwd=root, capture_output=True, text=True, timeout=7200)
    took = time.perf_counter() - start
    output = proc.stdout + proc.stderr
    failed = re.findall(r"^ FAIL {2}(.+?) *$", output, re.MULTILINE)
    if proc.returncode != 0 or failed:
        sys.exit(f"the pipeline failed ({', '.join(failed) or proc.returncode}):\n{output[-3000:]}")
    return took, output


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datalabs", default=DEFAULT, help="comma-separated ids (default: 4 JupyterLab datalabs)")
    parser.add_argument("--tmpdir", help="the jobs' TMPDIR (a runner's; e.g. /dev/shm, a tmpfs)")
    args = parser.parse_args()
    ids = args.datalabs.split(",")
    for tool in ("gitlab-ci-local", "rsync", "docker"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is needed (.ci/run installs it)")
    work = Path(tempfile.mkdtemp(prefix="sciapps-fanout-bench-"))
    try:
        root = checkout(work, args.tmpdir)
        tag = str(os.getpid())
        change(root, ids, f"{tag}-one-job")
        (root / "one-job.yml").write_text(
            yaml.safe_dump(one_job(yaml.safe_load((root / ".gitlab-ci.yml").read_text()), ids), sort_keys=False)
        )
        git(root, "add", "one-job.yml")
        git(root, "commit", "-qm", "the one-job pipeline")
        baseline, _ = run(root, "--file", "one-job.yml")
        change(root, ids, f"{tag}-fan-out")
        # the plan job, then the child pipeline it writes, run as the trigger runs it (gitlab-ci-local
        # selects no trigger job by name); no review, no publication: a plain branch's plan
        planning, _ = run(root, "--needs", "plan")  # with the parent's sciapps job
        shutil.copy(root / ".gitlab-ci-local" / "artifacts" / "plan" / "build" / "child-pipeline.yml", root / "child.yml")
        git(root, "add", "child.yml")
        git(root, "commit", "-qm", "the child pipeline")
        children, output = run(root, "--file", "child.yml")
        fanned = planning + children
        chains = sorted(set(re.findall(r"^(build \d+) ", output, re.MULTILINE)))
        assert len(chains) == len(ids), f"expected {len(ids)} chains, saw {chains}"
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"datalabs: {', '.join(ids)}; CPUs: {os.cpu_count()}; jobs' TMPDIR: {args.tmpdir or tempfile.gettempdir()}")
    print(f"baseline, one job (build, scan, test, chart of all {len(ids)}): {baseline:7.1f} s")
    print(
        f"fan-out, plan job {planning:.1f} s + child pipeline ({len(chains)} chains of 4 jobs) {children:.1f} s: {fanned:7.1f} s"
    )
    print(f"ratio (one job / fan-out): {baseline / fanned:.2f}x")


if __name__ == "__main__":
    main()
