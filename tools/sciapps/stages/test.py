"""The test stage: start each datalab's image and check that it works (see sciapps.testing)."""

from __future__ import annotations

from typing import Sequence

from sciapps.catalog.model import Datalab
from sciapps.config import Config, registry_login
from sciapps.engine import Engine
from sciapps.images.build import StagedImageRefused
from sciapps.stages.base import Log, Options, StageReport, Verdict, each_valid, image_of
from sciapps.catalog.launching import declared
from sciapps.testing.runner import run_tests

NAME = "test"
GATES = False
WHOLE_CATALOG = False
SHOWN_AS_CHECK = True
NEEDS = ("build",)
LEAVES: tuple[str, ...] = ()
NEEDS_BASES = False


def argv(ids: Sequence[str], options: Options) -> list[str]:
    return [
        "test",
        *ids,
        *([f"--timeout={options.notebook_timeout:g}"] if options.notebook_timeout != Options.notebook_timeout else []),
    ]


def run(config: Config, labs: Sequence[Datalab], options: Options, log: Log) -> StageReport:
    engine = Engine(login=registry_login(config))

    def work(lab: Datalab) -> Verdict:
        try:
            image = image_of(engine, config, lab, log)
        except StagedImageRefused as exc:
            log(f"{lab.id}: not tested: {exc.message}")
            return Verdict("failed", f"not tested: {exc.message}"[:300], {"refused": exc.message})
        report = run_tests(
            engine, lab, image, notebook_timeout=options.notebook_timeout, log=log, parameters=declared(lab.metadata, config)
        )
        for check in report.checks:
            if not check.passed:
                log(f"--- {lab.id}: {check.name} failed; its output:")
                for line in check.output.strip().splitlines()[-25:]:
                    log(f"  | {line}")
        status = "passed" if report.passed else "failed"
        log(f"{lab.id}: test {status}: {report.summary()}")
        executed = _keep_executed(config, lab, report.checks)
        return Verdict(
            status,
            report.summary(),
            {
                "image": image,
                "checks": [
                    {"name": c.name, "passed": c.passed, "seconds": round(c.seconds, 1), "output": c.output[-4000:]}
                    for c in report.checks
                ],
                "executed": executed,
            },
        )

    return each_valid(config, labs, NAME, "tested", work, log)


EXECUTED = "executed"  # build/results/<id>/executed/: the test notebooks as they ran, for the moderator


def _keep_executed(config: Config, lab: Datalab, checks) -> list[str]:
    """Write each notebook the tests ran, with its outputs, beside the results (and so into
    the job's artifacts): `executed/<n>-<name>.ipynb`. Names come from the check's number,
    never from a path of the merge request."""
    import re

    from sciapps.safefiles import write_atomically

    import shutil

    folder = config.path_of(config.results_dir) / lab.id / EXECUTED
    shutil.rmtree(folder, ignore_errors=True)  # only this run's
    folder.mkdir(parents=True, exist_ok=True)
    kept = []
    for number, check in enumerate((c for c in checks if c.executed), 1):
        slug = re.sub(r"[^a-z0-9]+", "-", check.name.lower()).strip("-")[:60] or "notebook"
        name = f"{number:02d}-{slug}.ipynb"
        write_atomically(folder / name, check.executed)
        kept.append(f"{EXECUTED}/{name}")
    return kept
