"""Benchmark: the fleet model. How long a base-image change takes to republish 1,000 and
10,000 datalabs on 1, 10 and 50 runners, and how much of that is job setup.

1. **Measure.** A real protected default-branch run of 4 datalabs with gitlab-ci-local
   (`--timestamps`): the parent's `sciapps` and `plan` jobs, then the child pipeline the plan
   writes (build, scan, test, chart, push, publish per batch), against a local registry and
   with a signing key, every image built from scratch. Each job's log gives its setup (from
   its first line to its first script line), the time of each script line, and its end.
   In the same run, one job with the setup before this change (pip installing SciApps from
   source, `job_start.BEFORE`) gives that setup's cost.
2. **Costs.** Per kind of job: setup, fixed work (the bases check of a build) and work per
   datalab; the overhead per job is the run's wall time that no job's script accounts for.
3. **Check.** The model schedules the measured pipeline as gitlab-ci-local does (waves: a
   new set of jobs starts when the last set has ended, at most `--concurrency` at once) and
   must predict the measured wall time within 20%.
4. **Predict.** GitLab's scheduling of the child pipeline for N datalabs: the `needs:` DAG
   (a job without `needs:` waits for every job of the earlier stages), the resource group
   of the publications, R runners with C concurrent jobs each, a job starting as soon as it
   is ready and a slot is free. Layouts: before this change (pip setup, 50 chains, the
   push inside the serialised publication), today's (uv setup, pushes beside each other,
   only the signing serialised), and today's with as many chains as slots.

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
import job_start  # noqa: E402

from sciapps.pipeline.gitlab import child_pipeline  # noqa: E402
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


def measure(ids: list[str], concurrency: int, tmpdir: str | None = None, save: Path | None = None) -> dict:
    from sciapps.releases import signing

    for tool in ("gitlab-ci-local", "rsync", "docker"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is needed (.ci/run installs it)")
    work = Path(tempfile.mkdtemp(prefix="sciapps-fleet-"))
    server = None
    try:
        server, address = registry(work)
        root = fanout.checkout(work)
        config = root / "sciapps.yaml"
        config.write_text(config.read_text().replace("registry: 127.0.0.1:5000/sciapps", f"registry: {address}/sciapps"))
        signing.generate(work / "private" / "release.key", root / "keys" / "release.pub")
        variables = yaml.safe_load((root / ".gitlab-ci-local-variables.yml").read_text())
        project = {signing.SIGNING_KEY_VARIABLE: str(work / "private" / "release.key"), "CI_COMMIT_REF_PROTECTED": "true"}
        if tmpdir:  # the runner's temporary directory, where each job makes its SciApps folder
            project["TMPDIR"] = tmpdir
        for key, value in project.items():
            variables[key] = {"type": "variable", "values": {"*": value}}
        (root / ".gitlab-ci-local-variables.yml").write_text(yaml.safe_dump(variables))
        fanout.git(root, "commit", "-qam", "this run's registry and key")
        fanout.change(root, ids, f"{os.getpid()}-fleet")
        env = job_start.job_env(tmpdir)
        before = job_start.job(root, [*job_start.BEFORE, job_start.READY], env)  # the old setup, once, in this run
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
        shutil.rmtree(work, ignore_errors=True)
    run = {
        "datalabs": ids,
        "concurrency": concurrency,
        "child_yaml": child,
        "child_log": child_out,
        "parent_log": parent_out,
        "child_wall": child_wall,
        "parent_wall": parent_wall,
        "before_setup": before,
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


def _costs(job: Job, script: list[str]) -> dict:
    """setup (until the first script line), fixed (the lines before the last), work (the last line)."""
    first = 0.0 if job.name == "sciapps" else _first(job, script[0].splitlines()[0])
    last = _first(job, script[-1].splitlines()[0]) if len(script) > 1 and job.name != "sciapps" else first
    return {"duration": job.duration, "setup": first, "fixed": last - first, "work": job.duration - last}


def _batch(script: list[str]) -> int:
    """How many datalabs a job's last line names (`sciapps <command> ID... [options]`)."""
    words = script[-1].split()
    return max(1, sum(1 for w in words[2:] if not w.startswith(("-", "$", "|"))))


# -- the model -------------------------------------------------------------------------


@dataclass
class Costs:
    overhead: float  # per job, outside its script
    setup: float  # a job's setup
    prepare: float  # the sciapps job
    plan: float  # the parent's plan job (bases check and plan)
    fixed: dict[str, float]  # per kind: work per job
    per_datalab: dict[str, float]  # per kind: work per datalab


def costs_from(m: dict, setup: str = "after") -> Costs:
    kinds: dict[str, list[dict]] = {}
    for name, c in m["child"].items():
        kinds.setdefault(name.rsplit(" ", 1)[0], []).append(c)
    per_datalab = {k: statistics.median(c["work"] / c["batch"] for c in v) for k, v in kinds.items() if k != "sciapps"}
    fixed = {k: statistics.median(c["fixed"] for c in v) for k, v in kinds.items() if k != "sciapps"}
    setups = [c["setup"] for k, v in kinds.items() if k != "sciapps" for c in v]
    measured_setup = statistics.median(setups)
    measured = jobs_of(
        m["child_yaml"],
        Costs(0, measured_setup, m["child"]["sciapps"]["duration"], 0, fixed, per_datalab),
        durations={n: c["duration"] for n, c in m["child"].items()},
    )
    scripts, count = simulate(measured, slots=m["concurrency"], waves=True), len(waves_of(measured, m["concurrency"]))
    overhead = max(0.0, (m["child_wall"] - scripts) / count)  # gitlab-ci-local's time between one set of jobs and the next
    return Costs(
        overhead,
        measured_setup if setup == "after" else m["before_setup"],
        m["child"]["sciapps"]["duration"],
        m["parent"]["plan"]["duration"],
        fixed,
        per_datalab,
    )


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


def republish(n: int, runners: int, per_runner: int, costs: Costs, layout: str) -> tuple[float, float]:
    """(wall time in seconds, share of the job time spent on setup and overhead) of a
    base-image change republishing `n` datalabs: the parent's sciapps and plan jobs, then the
    child pipeline `sciapps plan` writes for them, with `layout`'s changes."""
    plan = Plan("0" * 40, [Planned(f"lab-{i:05d}", "build", ("a base changed",)) for i in range(n)])
    child = child_pipeline(plan, "publish")
    before = layout == "before"
    if before:  # the push ran inside the publication; no sciapps job
        child = {k: v for k, v in child.items() if not k.startswith("push ")}
        for k, v in child.items():
            if k.startswith("publish ") and isinstance(v, dict):
                v["needs"] = [f"{s} {k.split()[-1]}" for s in ("build", "scan", "test", "chart")]
    if layout in ("before", "one lock"):  # every publication in one resource group
        for k, v in child.items():
            if k.startswith("publish ") and isinstance(v, dict):
                v["resource_group"] = "sciapps-publish"
    jobs = jobs_of(child, costs, prepare=not before, push_in_publish=before)
    parent = (0.0 if before else costs.prepare) + costs.plan + costs.overhead
    wall = parent + simulate(jobs, runners * per_runner)
    total = sum(j.duration for j in jobs)
    setup = sum(j.setup for j in jobs) + (0.0 if before else costs.prepare)
    return wall, setup / (total + (0.0 if before else costs.prepare))


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
        f"  per job: overhead {after.overhead:.1f} s, setup {after.setup:.1f} s (before this change: {before.setup:.1f} s), "
        f"the sciapps job {after.prepare:.1f} s once, plan {after.plan:.1f} s"
    )
    print(
        "  per datalab: "
        + ", ".join(f"{k} {v:.1f} s" for k, v in after.per_datalab.items())
        + "; per job: "
        + ", ".join(f"{k} {v:.1f} s" for k, v in after.fixed.items() if v >= 0.5)
    )
    jobs = jobs_of(m["child_yaml"], after)
    predicted = simulate(jobs, m["concurrency"], waves=True)  # the overhead is in each job's modelled duration
    error = (predicted - m["child_wall"]) / m["child_wall"]
    print(
        f"check: the model predicts the measured child pipeline in {predicted:.0f} s, measured {m['child_wall']:.0f} s "
        f"({error:+.0%}; must be within 20%): {'ok' if abs(error) <= 0.2 else 'FAILED'}"
    )
    print()
    print(f"a base-image change republishing N datalabs (GitLab's scheduling, C={args.per_runner} jobs per runner):")
    layouts = (
        ("before", before, "before: pip setup in every job; push inside the publication; one lock for all"),
        ("one lock", after, "uv setup from the pipeline's wheels; pushes side by side; one signing lock"),
        ("after", after, "after: and a signing lock per batch (a datalab is always in one batch)"),
    )
    print(f"  {'layout':<82} {'N':>6} {'runners':>7} {'wall':>9} {'setup':>6}")
    for key, costs, label in layouts:
        for n in (1_000, 10_000):
            for runners in (1, 10, 50):
                wall, share = republish(n, runners, args.per_runner, costs, key)
                goal = "  <- the goal: 1 h" if n == 1_000 and runners == 10 else ""
                print(f"  {label:<82} {n:>6} {runners:>7} {wall / 3600:>7.2f} h {share:>5.0%}{goal}")
    print("\nassumption: a runner slot runs a job as fast as this machine ran it; the pages job (store) is not included")
    return 0 if abs(error) <= 0.2 else 1


if __name__ == "__main__":
    sys.exit(main())
