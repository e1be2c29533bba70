"""Benchmark: a pipeline job's start, from its first line to SciApps ready, in one run.

Before: every job made a virtual environment and pip-installed SciApps from the target
revision's source (the setup of the pipeline-trust change, kept here as it was). After:
the pipeline's first job makes the wheels once (`trust.PREPARE`), and every job installs
them with uv (`trust.SETUP`). Both run for real, in a clone of this repository, as the
protected default branch's jobs do (no `admit`), with `sciapps --version` as the proof.

Also, since issue 31, what trusting the protected branch's head costs a merge request's
job: its revision lines (`_REVISION`: fetch the default branch by name, check the trusted
revision is on its history) against the default branch's own (no fetch), in the same clone
with a bare repository as `origin`.

Run: .venv/bin/python benchmarks/job_start.py [--jobs 3] [--tmpdir /dev/shm]
(--tmpdir: where the jobs make their folder, as a runner's TMPDIR; default the system's)
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))

from sciapps.trust import PREPARE, SETUP, _REVISION  # noqa: E402

# The job setup before this change (issue 21's): pip installs SciApps from source in every job.
BEFORE = [
    *_REVISION[:4],
    'SCIAPPS_HOME="$(mktemp -d)" && trap \'rm -rf "$SCIAPPS_HOME"\' EXIT && mkdir "$SCIAPPS_HOME/src"',
    'git archive --format=tar "$SCIAPPS_REV" -- pyproject.toml README.md tools schemas | tar -x -C "$SCIAPPS_HOME/src"',
    '(cd "$SCIAPPS_HOME" && python3 -I -m venv venv && venv/bin/python -I -m pip install --quiet ./src)',
    'export PATH="$SCIAPPS_HOME/venv/bin:$PATH"',
]
READY = "sciapps --version >/dev/null"


def clone(work: Path) -> Path:
    root = work / "catalog"
    subprocess.run(["git", "clone", "-q", "--no-hardlinks", str(REPO), str(root)], check=True)
    return root


def job_env(tmpdir: str | None = None) -> dict[str, str]:
    """A protected default-branch job's environment, without this checkout's venv (`tmpdir`: the runner's TMPDIR)."""
    env = {
        **os.environ,
        "CI_COMMIT_REF_PROTECTED": "true",
        "CI_COMMIT_BRANCH": "main",
        "CI_DEFAULT_BRANCH": "main",
        "BASE_REV": "HEAD",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        **({"TMPDIR": tmpdir} if tmpdir else {}),
    }
    env.pop("VIRTUAL_ENV", None)
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if ".venv" not in p)
    return env


def job(root: Path, lines: list[str], env: dict[str, str]) -> float:
    """One job's lines in bash, as GitLab's shell executor runs them (stop at the first failure)."""
    script = "set -eo pipefail\n" + "\n".join(lines) + "\n"
    start = time.perf_counter()
    proc = subprocess.run(["bash", "-c", script], cwd=root, env=env, capture_output=True, text=True, timeout=1800)
    took = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"the job failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
    return took


def trust_resolution(work: Path, root: Path, env: dict[str, str], runs: int = 10) -> tuple[list[float], list[float]]:
    """(seconds of the revision lines as the default branch's job runs them, as a merge request's does)."""
    bare = work / "origin.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(root), str(bare)], check=True)
    subprocess.run(["git", "remote", "set-url", "origin", str(bare)], cwd=root, check=True)
    lines = [*_REVISION[:3], 'test -n "$SCIAPPS_TRUSTED_REV"']
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True).stdout.strip()
    merge_request = {
        **env,
        "CI_COMMIT_REF_PROTECTED": "false",
        "CI_COMMIT_BRANCH": "",
        "CI_PIPELINE_SOURCE": "merge_request_event",
        "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
        "BASE_REV": head,
    }
    subprocess.run(["git", "push", "-q", str(bare), "HEAD:refs/heads/main"], cwd=root, check=True)
    return [job(root, lines, env) for _ in range(runs)], [job(root, lines, merge_request) for _ in range(runs)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=3, help="jobs of each kind (default 3)")
    parser.add_argument("--tmpdir", help="the runner's temporary directory (default: the system's)")
    args = parser.parse_args()
    if shutil.which("python3") is None or shutil.which("git") is None:
        print("needs python3 and git", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="job-start-") as tmp:
        root = clone(Path(tmp))
        env = job_env(args.tmpdir)
        before = [job(root, [*BEFORE, READY], env) for _ in range(args.jobs)]
        prepare = job(root, PREPARE, env)
        size = sum(f.stat().st_size for f in (root / ".sciapps-runtime").rglob("*") if f.is_file())
        after = [job(root, [*SETUP, READY], env) for _ in range(args.jobs)]
        own, trusted = trust_resolution(Path(tmp), root, env)
    print(
        "job start, from the job's first line to `sciapps --version` "
        f"({args.jobs} jobs each, TMPDIR {args.tmpdir or tempfile.gettempdir()}):"
    )
    print(
        "  before (pip install from source in every job): median "
        f"{statistics.median(before):6.1f} s   ({', '.join(f'{t:.1f}' for t in before)})"
    )
    print(
        "  after  (uv install of the pipeline's wheels):   median "
        f"{statistics.median(after):6.1f} s   ({', '.join(f'{t:.1f}' for t in after)})"
    )
    print(f"  the pipeline's sciapps job, once:               {prepare:6.1f} s   (artifact {size / 1e6:.0f} MB)")
    print(
        f"  revision lines, median of {len(own)}: default branch {statistics.median(own) * 1000:.0f} ms, "
        f"merge request (fetch by name, ancestry) {statistics.median(trusted) * 1000:.0f} ms"
    )
    n = 50
    print(
        f"  a pipeline of {n} jobs spends {n * statistics.median(before) / 60:.1f} min on setup before, "
        f"{(prepare + n * statistics.median(after)) / 60:.1f} min after"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
