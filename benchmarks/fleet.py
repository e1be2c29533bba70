"""Benchmark: the fleet model. How long a base-image change takes to republish 1,000 and
10,000 datalabs on 1, 10 and 50 runners, before and after images were handed on between
jobs through the registry, by digest.

1. **Measure.** A real protected default-branch run of 4 datalabs with gitlab-ci-local
   (`--timestamps`) on two Docker engines, as GitLab spreads a chain: each build job on a
   second engine that starts empty (it pulls the bases the plan pushed), every other job on
   the first (scan and test pull the image the build staged; push copies it in the
   registry). The parent's `sciapps` and `plan` jobs run first, then the child pipeline
   the plan writes (build, scan, test, chart, push, publish per batch), against a local
   registry and with a signing key. Each job's log gives its setup (from its first line to
   its first script line), the time of each script line, its end, and the seconds it spent
   moving images (from a `staging`, `pulling` or `copying` line to the next line).
2. **Costs.** Per kind of job: setup, fixed work (the bases pull of a build) and work per
   datalab; the overhead per job is the run's wall time that no job's script accounts for.
   *Before* is the same run without the hand-off: no pulls, no copy, and the image pushed
   once by the push job (what the staging push costs) instead of by the build.
3. **Check.** The model schedules the measured pipeline as gitlab-ci-local 4.72 does (a
   job starts when its needs have ended, at most `--concurrency` at once) and must predict
   the measured wall time within 20%.
4. **Predict.** GitLab's scheduling of the child pipeline for N datalabs: the `needs:` DAG
   (a job without `needs:` waits for every job of the earlier stages), the resource groups
   of the publications, R runners with C concurrent jobs each, a job starting as soon as it
   is ready and a slot is free; with 50 chains (the default) and with `pipeline: chains:`
   set to twice the runners' job slots (more batches, smaller: the slots stay busy while
   the last builds run).

Assumption, printed with the table: a runner slot runs a job as fast as this 2-core
machine ran it with 2 jobs at once; the store's pages job is not included.

Run: .venv/bin/python benchmarks/fleet.py            (measures, ~15 min, then predicts)
     .venv/bin/python benchmarks/fleet.py --costs F  (predicts from a measurement saved with --save F)
"""

from __future__ import annotations

import argparse
import heapq
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent / "tools"))

import fanout  # noqa: E402

from sciapps.pipeline.gitlab import MAX_CHAINS, child_pipeline  # noqa: E402
from sciapps.plan import Plan, Planned  # noqa: E402

LINE = re.compile(r"^\[(\d\d):(\d\d):(\d\d) +([\d.]+) (ms|s|min|h)\] (.+)$")
UNIT = {"ms": 0.001, "s": 1.0, "min": 60.0, "h": 3600.0}
KINDS = ("sciapps", "plan", "build", "scan", "test", "chart", "push", "publish")


# -- measuring -------------------------------------------------------------------------


@dataclass
class Job:
    name: str
    lines: list[tuple[str, float]] = field(default_factory=list)  # (the log line, seconds since the job started)
    duration: float = 0.0


def parse(output: str, names: list[str]) -> dict[str, Job]:
    """Each job's timed log lines and duration from gitlab-ci-local --timestamps."""
    found = {name: Job(name) for name in names}
    by_length = sorted(names, key=len, reverse=True)
    for raw in output.splitlines():
        match = LINE.match(raw)
        if not match:
            continue
        seconds, rest = float(match[4]) * UNIT[match[5]], match[6]
        name = next((n for n in by_length if rest.startswith(n + " ")), None)
        if name is None:
            continue
        text = rest[len(name) :].strip()
        finished = re.match(r"finished in ([\d.]+) (ms|s|min|h)", text)
        if finished:
            found[name].duration = float(finished[1]) * UNIT[finished[2]]
        else:
            found[name].lines.append((text, seconds))
    missing = [n for n, j in found.items() if not j.duration]
    if missing:
        sample = "\n".join(line for line in output.splitlines() if missing[0] in line)[-1500:]
        raise SystemExit(f"no end found in the log for {missing}; the log's lines of {missing[0]}:\n{sample}")
    return found


def _first(job: Job, command: str) -> float:
    """When the job's log shows `command` starting."""
    for text, seconds in job.lines:
        if text == f"$ {command}" or text.startswith(f"$ {command} # collapsed"):  # a multi-line command shows its first line
            return seconds
    raise SystemExit(f"{job.name}: `{command}` not found in its log")


def registry(folder: Path) -> tuple[subprocess.Popen, str]:
    binary = shutil.which("docker-registry") or shutil.which("registry")
    if binary is None:
        raise SystemExit("Debian's docker-registry is needed (.ci/run installs it)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    (folder / "registry.yml").write_text(
        "version: 0.1\nlog: {level: error}\nstorage: {filesystem: {rootdirectory: %s}, delete: {enabled: true}}\n"
        "http: {addr: '127.0.0.1:%d'}\n" % (folder / "registry", port)
    )
    proc = subprocess.Popen([binary, "serve", str(folder / "registry.yml")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, f"127.0.0.1:{port}"
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the registry did not start")


def second_engine(folder: Path) -> tuple[subprocess.Popen, str]:
    """A second runner: another Docker engine (its own data root, exec root, socket and
    pidfile) that starts with no image at all; (its process, its DOCKER_HOST)."""
    binary = shutil.which("dockerd")
    if binary is None:
        raise SystemExit("dockerd is needed (.ci/run installs docker.io)")
    sock = folder / "runner2.sock"
    own = {"data-root": "runner2-data", "exec-root": "runner2-exec", "pidfile": "runner2.pid"}
    argv = [binary, "--host", f"unix://{sock}", "--iptables=false", "--bridge=none"]
    argv += [f"--{flag}={folder / name}" for flag, name in own.items()]
    namespaces = ("containerd-namespace", "containerd-plugins-namespace")
    argv += [f"--{kind}=sciapps-fleet-{kind[11]}{os.getpid()}" for kind in namespaces]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(600):
        if subprocess.run(["docker", "-H", f"unix://{sock}", "info"], capture_output=True).returncode == 0:
            return proc, f"unix://{sock}"
        time.sleep(0.1)
    proc.kill()
    raise SystemExit("the second Docker engine did not start")


def measure(ids: list[str], concurrency: int, tmpdir: str | None = None, save: Path | None = None) -> dict:
    from sciapps.releases import signing

    for tool in ("gitlab-ci-local", "rsync", "docker"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is needed (.ci/run installs it)")
    work = Path(tempfile.mkdtemp(prefix="sciapps-fleet-", dir="/var/tmp" if os.access("/var/tmp", os.W_OK) else None))
    server = runner2 = None
    try:
        server, address = registry(work)
        runner2, host2 = second_engine(work)
        # two runners, as GitLab spreads a chain's jobs: each build on the second engine (no image on it
        # at the start: it pulls the bases), every other job on the first (scan and test pull the staged image)
        (work / "runner.sh").write_text(f'case "${{CI_JOB_NAME:-}}" in "build "*) export DOCKER_HOST={host2} ;; esac\n')
        root = fanout.checkout(work)
        config = root / "sciapps.yaml"
        config.write_text(config.read_text().replace("registry: 127.0.0.1:5000/sciapps", f"registry: {address}/sciapps"))
        signing.generate(work / "private" / "release.key", root / "keys" / "release.pub")
        variables = yaml.safe_load((root / ".gitlab-ci-local-variables.yml").read_text())
        project = {
            signing.SIGNING_KEY_VARIABLE: str(work / "private" / "release.key"),
            "CI_COMMIT_REF_PROTECTED": "true",
            "BASH_ENV": str(work / "runner.sh"),
        }
        if tmpdir:  # the runner's temporary directory, where each job makes its SciApps folder
            project["TMPDIR"] = tmpdir
        for key, value in project.items():
            variables[key] = {"type": "variable", "values": {"*": value}}
        (root / ".gitlab-ci-local-variables.yml").write_text(yaml.safe_dump(variables))
        fanout.git(root, "commit", "-qam", "this run's registry and key")
        fanout.change(root, ids, f"{os.getpid()}-fleet")
        common = ["--timestamps", "--concurrency", str(concurrency), "--variable", "CI_COMMIT_REF_PROTECTED=true"]
        parent_wall, parent_out = fanout.run(root, *common, "--needs", "plan")
        shutil.copy(root / ".gitlab-ci-local" / "artifacts" / "plan" / "build" / "child-pipeline.yml", root / "child.yml")
        child = yaml.safe_load((root / "child.yml").read_text())
        fanout.git(root, "add", "child.yml")
        fanout.git(root, "commit", "-qm", "the child pipeline")
        child_wall, child_out = fanout.run(root, *common, "--file", "child.yml")
    finally:
        if server is not None:
            server.kill()
        if runner2 is not None:
            runner2.terminate()
            runner2.wait(timeout=60)
        shutil.rmtree(work, ignore_errors=True)
    run = {
        "datalabs": ids,
        "concurrency": concurrency,
        "child_yaml": child,
        "child_log": child_out,
        "parent_log": parent_out,
        "child_wall": child_wall,
        "parent_wall": parent_wall,
        "tmpdir": tmpdir or tempfile.gettempdir(),
        "cpus": os.cpu_count(),
    }
    if save:
        save.write_text(json.dumps(run, indent=2))
    return costs_of_run(run)


def costs_of_run(run: dict) -> dict:
    """Each job's costs, from the logs of a measured run (kept with --save, read again with --costs)."""
    child, parent_out, child_out = run["child_yaml"], run["parent_log"], run["child_log"]
    names = [n for n, v in child.items() if isinstance(v, dict) and "script" in v]
    jobs = parse(child_out, names)
    parent = parse(parent_out, ["sciapps", "plan"])
    return {
        **run,
        "parent": {n: _costs(j, _parent_script(n)) for n, j in parent.items()},
        "child": {n: {**_costs(j, child[n]["script"]), "batch": _batch(child[n]["script"])} for n, j in jobs.items()},
    }


def _parent_script(name: str) -> list[str]:
    from sciapps.trust import PREPARE

    if name == "sciapps":
        return PREPARE[:1]  # the prepare job has no setup of its own: all of it is its work
    parent = yaml.safe_load((BENCH.parent / ".gitlab-ci.yml").read_text())
    return parent[name]["script"]


HOW = ("staging", "pulling", "copying")
HAND_OFF = re.compile(r"^(?:> )?(?:\S+: )?(staging|pulling|copying) ")  # a line that starts moving an image through the registry


def _hand_off(job: Job) -> dict[str, float]:
    """Seconds the job spent moving images through the registry, by kind: from each line
    that starts a move (`staging`, `pulling`, `copying`) to the job's next line."""
    spent: dict[str, float] = {}
    for (text, at), (_, after) in zip(job.lines, [*job.lines[1:], ("", job.duration)]):
        match = HAND_OFF.match(text)
        if match:
            spent[match[1]] = spent.get(match[1], 0.0) + max(0.0, after - at)
    return spent


def _costs(job: Job, script: list[str]) -> dict:
    """setup (until the first script line), fixed (the lines before the last), work (the last
    line), and of the work, the seconds spent handing images on through the registry."""
    first = 0.0 if job.name == "sciapps" else _first(job, script[0].splitlines()[0])
    last = _first(job, script[-1].splitlines()[0]) if len(script) > 1 and job.name != "sciapps" else first
    return {
        "duration": job.duration,
        "setup": first,
        "fixed": last - first,
        "work": job.duration - last,
        "hand_off": _hand_off(job),
    }


def _batch(script: list[str]) -> int:
    """How many datalabs a job's last line names (`sciapps <command> ID... [options]`)."""
    words = script[-1].split()[2:]
    ids = words[: next((i for i, w in enumerate(words) if w.startswith(("-", "$", "|"))), len(words))]
    return max(1, len(ids))  # the ids come first; then options and their values


# -- the model -------------------------------------------------------------------------


@dataclass
class Costs:
    overhead: float  # per job, outside its script
    setup: float  # a job's setup
    prepare: float  # the sciapps job
    plan: float  # the parent's plan job (bases check and plan)
    fixed: dict[str, float]  # per kind: work per job
    per_datalab: dict[str, float]  # per kind: work per datalab


def costs_from(m: dict, layout: str = "after") -> Costs:
    """The model's costs from a measured run. `layout="before"`: the same run's jobs as they
    were before the registry hand-off (every job of a chain on the build's runner): no
    pulls in scan and test, and the image pushed by the push job (the staging push's
    cost) instead of copied in the registry."""
    kinds: dict[str, list[dict]] = {}
    for name, c in m["child"].items():
        kinds.setdefault(name.rsplit(" ", 1)[0], []).append(c)
    per_datalab = {k: statistics.median(c["work"] / c["batch"] for c in v) for k, v in kinds.items() if k != "sciapps"}
    moved = {
        k: {how: statistics.median(c.get("hand_off", {}).get(how, 0.0) / c["batch"] for c in v) for how in HOW}
        for k, v in kinds.items()
        if k != "sciapps"
    }
    if layout == "before":
        staging = moved.get("build", {}).get("staging", 0.0)
        for kind, spent in moved.items():
            per_datalab[kind] -= spent["staging"] + spent["pulling"] + spent["copying"]
        per_datalab["push"] = per_datalab.get("push", 0.0) + staging
    fixed = {k: statistics.median(c["fixed"] for c in v) for k, v in kinds.items() if k != "sciapps"}
    setups = [c["setup"] for k, v in kinds.items() if k != "sciapps" for c in v]
    measured_setup = statistics.median(setups)
    measured = jobs_of(
        m["child_yaml"],
        Costs(0, measured_setup, m["child"]["sciapps"]["duration"], 0, fixed, per_datalab),
        durations={n: c["duration"] for n, c in m["child"].items()},
    )
    overhead = _overhead(measured, m["concurrency"], m["child_wall"])
    return Costs(
        overhead,
        measured_setup,
        m["child"]["sciapps"]["duration"],
        m["parent"]["plan"]["duration"],
        fixed,
        per_datalab,
    )


def _overhead(measured: list["SimJob"], slots: int, wall: float) -> float:
    """gitlab-ci-local's own time per job (starting it, copying artifacts in and out): what,
    added to each measured job, makes the scheduled jobs take the measured wall time. It
    starts a job as soon as its needs have ended, as GitLab does (the measured durations
    scheduled so come within a few percent of the run; in waves they do not)."""
    low, high = 0.0, 60.0
    for _ in range(40):
        middle = (low + high) / 2
        longer = [SimJob(j.name, j.stage, j.duration + middle, j.needs, j.group, j.setup) for j in measured]
        low, high = (middle, high) if simulate(longer, slots) < wall else (low, middle)
    return low


@dataclass
class SimJob:
    name: str
    stage: int
    duration: float
    needs: list[str] | None  # None: every job of the earlier stages
    group: str | None = None
    setup: float = 0.0


def jobs_of(
    child: dict, costs: Costs, durations: dict[str, float] | None = None, prepare: bool = True, push_in_publish: bool = False
) -> list[SimJob]:
    """The child pipeline's jobs with modelled durations (or measured ones, `durations`)."""
    stages = child["stages"]
    out = []
    for name, job in child.items():
        if not isinstance(job, dict) or "script" not in job:
            continue
        kind = name.rsplit(" ", 1)[0] if name[-1].isdigit() else name
        if kind == "sciapps":
            if not prepare:
                continue
            duration, setup = costs.prepare, 0.0
        else:
            batch = _batch(job["script"])
            work = costs.fixed.get(kind, 0.0) + costs.per_datalab.get(kind, 0.0) * batch
            if push_in_publish and kind == "publish":
                work += costs.fixed.get("push", 0.0) + costs.per_datalab.get("push", 0.0) * batch
            duration, setup = costs.overhead + costs.setup + work, costs.overhead + costs.setup
        if durations is not None:
            duration = durations[name]
        needs = [n for n in job["needs"] if prepare or n != "sciapps"] if "needs" in job else None
        out.append(SimJob(name, stages.index(job["stage"]), duration, needs, job.get("resource_group"), setup))
    return out


def simulate(jobs: list[SimJob], slots: int, waves: bool = False, start: float = 0.0) -> float:
    """The wall time of `jobs` on `slots` job slots: GitLab's scheduling (a job starts when its
    needs have ended, a slot is free and its resource group is idle), or gitlab-ci-local's
    (`waves`: a set of ready jobs starts only when the last set has ended)."""
    deps = {j.name: (j.needs if j.needs is not None else [o.name for o in jobs if o.stage < j.stage]) for j in jobs}
    order = {j.name: i for i, j in enumerate(jobs)}
    by_name = {j.name: j for j in jobs}
    if waves:
        end: dict[str, float] = {}
        now, left = start, list(jobs)
        while left:
            ready = [j for j in left if all(d in end for d in deps[j.name])][:slots]
            if not ready:
                raise SystemExit("the pipeline's needs form a cycle")
            for j in ready:
                end[j.name] = now + j.duration
                left.remove(j)
            now = max(end[j.name] for j in ready)
        return now - start
    done_at: dict[str, float] = {}
    running: list[tuple[float, int, str]] = []  # (end, order, name)
    busy_groups: set[str] = set()
    waiting = sorted(by_name, key=order.get)
    now = start
    while waiting or running:
        startable = sorted(
            (
                (max([done_at[d] for d in deps[n]], default=start), order[n], n)
                for n in waiting
                if all(d in done_at for d in deps[n])
            )
        )
        for _, _, name in startable:
            job = by_name[name]
            if len(running) >= slots:
                break
            if job.group and job.group in busy_groups:
                continue
            heapq.heappush(running, (now + job.duration, order[name], name))
            waiting.remove(name)
            if job.group:
                busy_groups.add(job.group)
        if not running:
            raise SystemExit("the pipeline's needs form a cycle")
        now, _, name = heapq.heappop(running)
        done_at[name] = now
        if by_name[name].group:
            busy_groups.discard(by_name[name].group)
    return now - start


def waves_of(jobs: list[SimJob], slots: int) -> list[list[str]]:
    """The sets of jobs gitlab-ci-local starts together."""
    deps = {j.name: (j.needs if j.needs is not None else [o.name for o in jobs if o.stage < j.stage]) for j in jobs}
    done: set[str] = set()
    left, out = [j.name for j in jobs], []
    while left:
        ready = [n for n in left if all(d in done for d in deps[n])][:slots]
        out.append(ready)
        done.update(ready)
        left = [n for n in left if n not in done]
    return out


def republish(n: int, runners: int, per_runner: int, costs: Costs, chains: int) -> tuple[float, float]:
    """(wall time in seconds, share of the job time spent on setup and overhead) of a
    base-image change republishing `n` datalabs: the parent's sciapps and plan jobs, then the
    child pipeline `sciapps plan` writes for them over `chains` chains."""
    plan = Plan("0" * 40, [Planned(f"lab-{i:05d}", "build", ("a base changed",)) for i in range(n)])
    child = child_pipeline(plan, "publish", pinned_bases="{}", chains=chains)
    jobs = jobs_of(child, costs)
    wall = costs.prepare + costs.plan + costs.overhead + simulate(jobs, runners * per_runner)
    total = sum(j.duration for j in jobs)
    setup = sum(j.setup for j in jobs) + costs.prepare
    return wall, setup / (total + costs.prepare)


def hand_off_of(m: dict) -> dict[str, float]:
    """Median seconds per datalab each kind of job spent moving images, in the measured run."""
    kinds: dict[str, list[dict]] = {}
    for name, c in m["child"].items():
        kinds.setdefault(name.rsplit(" ", 1)[0], []).append(c)
    return {
        f"{kind} {how}": statistics.median(c.get("hand_off", {}).get(how, 0.0) / c["batch"] for c in v)
        for kind, v in kinds.items()
        for how in HOW
        if any(c.get("hand_off", {}).get(how) for c in v)
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datalabs", default=fanout.DEFAULT, help="the measured run's datalabs (comma-separated)")
    parser.add_argument(
        "--concurrency", type=int, default=2, help="jobs at once in the measured run (default 2: this machine's cores)"
    )
    parser.add_argument("--per-runner", type=int, default=2, help="C: concurrent jobs per runner in the predictions (default 2)")
    parser.add_argument("--tmpdir", help="the runners' temporary directory in the measured run (e.g. /dev/shm, a tmpfs)")
    parser.add_argument("--costs", type=Path, help="predict from a saved measurement instead of measuring")
    parser.add_argument("--save", type=Path, help="save the measurement here")
    args = parser.parse_args()
    if args.costs:
        m = costs_of_run(json.loads(args.costs.read_text()))
    else:
        m = measure(args.datalabs.split(","), args.concurrency, args.tmpdir, args.save)
    after, before = costs_from(m, "after"), costs_from(m, "before")
    print(
        f"measured: {len(m['datalabs'])} datalabs, gitlab-ci-local at {m['concurrency']} jobs at once on {m['cpus']} CPUs, "
        f"jobs' TMPDIR {m.get('tmpdir')}; "
        f"child pipeline {m['child_wall']:.0f} s, parent sciapps+plan {m['parent_wall']:.0f} s"
    )
    print(
        f"  per job: overhead {after.overhead:.1f} s, setup {after.setup:.1f} s "
        f"the sciapps job {after.prepare:.1f} s once, plan {after.plan:.1f} s"
    )
    print(
        "  per datalab: "
        + ", ".join(f"{k} {v:.1f} s" for k, v in after.per_datalab.items())
        + "; per job: "
        + ", ".join(f"{k} {v:.1f} s" for k, v in after.fixed.items() if v >= 0.5)
    )
    jobs = jobs_of(m["child_yaml"], after)
    predicted = simulate(jobs, m["concurrency"])  # the overhead is in each job's modelled duration
    error = (predicted - m["child_wall"]) / m["child_wall"]
    print(
        f"check: the model predicts the measured child pipeline in {predicted:.0f} s, measured {m['child_wall']:.0f} s "
        f"({error:+.0%}; must be within 20%): {'ok' if abs(error) <= 0.2 else 'FAILED'}"
    )
    print()
    print(f"a base-image change republishing N datalabs (GitLab's scheduling, C={args.per_runner} jobs per runner):")
    layouts = (
        ("before: a chain's jobs on one runner (images never leave it), 50 chains", before, lambda r: MAX_CHAINS),
        ("after: images handed on by digest (pushes, pulls, copies), 50 chains", after, lambda r: MAX_CHAINS),
        ("after, `pipeline: chains:` = 2 x the runners' job slots", after, lambda r: max(MAX_CHAINS, 2 * r * args.per_runner)),
    )
    print(f"  {'layout':<76} {'N':>6} {'runners':>7} {'chains':>6} {'jobs':>5} {'wall':>9} {'setup':>6}")
    for label, costs, chains_of in layouts:
        for n in (1_000, 10_000):
            for runners in (1, 10, 50):
                chains = chains_of(runners)
                wall, share = republish(n, runners, args.per_runner, costs, chains)
                goal = {(1_000, 10): "  <- goal: 1 h", (10_000, 50): "  <- goal: 2 h"}.get((n, runners), "")
                jobs = 6 * min(chains, n) + 3
                print(f"  {label:<76} {n:>6} {runners:>7} {chains:>6} {jobs:>5} {wall / 3600:>7.2f} h {share:>5.0%}{goal}")
    print(
        "\n  moving images through the registry, per datalab: " + ", ".join(f"{k} {v:.1f} s" for k, v in hand_off_of(m).items())
    )
    print("\nassumption: a runner slot runs a job as fast as this machine ran it; the pages job (store) is not included")
    return 0 if abs(error) <= 0.2 else 1


if __name__ == "__main__":
    sys.exit(main())
