"""The build stage: each datalab that validates becomes an image (see sciapps.images.build)."""

from __future__ import annotations

from typing import Sequence

from sciapps.baselock import read_lock
from sciapps.catalog.model import Datalab
from sciapps.catalog.rules.docker import SourceOnlyPackage
from sciapps.config import Config, job_login, registry_login
from sciapps.engine import BuildFailed, Engine
from sciapps.images.build import ImageCheckFailed, build, plan, stage
from sciapps.ledger import staging_repository
from sciapps.buildfiles import builds_from_source
from sciapps.stages.base import Log, Options, StageReport, Verdict, each_valid

NAME = "build"
GATES = True
WHOLE_CATALOG = False
SHOWN_AS_CHECK = True
NEEDS: tuple[str, ...] = ()
LEAVES = ("build/base-images.json",)  # the approved bases it built on, which scan compares with
NEEDS_BASES = True  # the approved base images on the runner
WORDS = {"built": "built", "unchanged": "unchanged, already built", "in-registry": "unchanged, already in the registry"}


def argv(ids: Sequence[str], options: Options) -> list[str]:
    return [
        "build",
        *ids,
        *(["--push"] if options.push else []),
        *(["--no-cache"] if options.no_cache else []),
        *(["--stage-to", options.stage_to] if options.stage_to else []),
    ]


def _no_wheel(lab: Datalab, tail: list[str]):
    """The DL-071 finding of a basic build whose pip found no wheel of a package, or None."""
    if (lab.metadata or {}).get("mode", "basic") != "basic" or builds_from_source(lab.metadata or {}):
        return None
    return SourceOnlyPackage().from_build(lab, tail)


def run(config: Config, labs: Sequence[Datalab], options: Options, log: Log) -> StageReport:
    # a merge request's build stages with GitLab's job credentials only, never the protected ones
    engine = Engine(login=job_login(config) if options.stage_to == "review" else registry_login(config))
    approved = read_lock(config)

    def work(lab: Datalab) -> Verdict:
        try:
            p = plan(lab, config, approved)
            outcome = build(engine, p, push=options.push, nocache=options.no_cache, log=log)
        except (BuildFailed, ImageCheckFailed) as exc:
            log(f"{lab.id}: {exc.message}")
            tail = getattr(exc, "log_tail", [])
            for line in tail[-10:]:
                log(f"  | {line}")
            finding = _no_wheel(lab, tail)
            if finding is not None:
                log(finding.format())
                return Verdict("failed", finding.format()[:300], {"log_tail": tail, "findings": [finding.as_dict()]})
            return Verdict("failed", exc.message[:300], {"log_tail": tail})
        summary = f"{WORDS[outcome.status]}: {outcome.ref}" + (
            f" in {outcome.seconds:.0f} s" if outcome.status == "built" else ""
        )
        log(f"{lab.id}: {summary}" + (f" (pushed, {outcome.digest})" if options.push and outcome.digest else ""))
        staged = None
        if options.stage_to:  # handed on by digest: the later jobs of its chain may run on any runner
            staged = stage(engine, outcome, staging_repository(config.registry, options.stage_to, lab.id), log)
            log(f"{lab.id}: staged {staged.pinned}")
        return Verdict(
            "passed",
            summary,
            {
                "ref": outcome.ref,
                **({"staged": staged.as_dict()} if staged else {}),
                "image_id": outcome.image_id,
                "digest": outcome.digest,
                "status": outcome.status,
                "seconds": round(outcome.seconds, 1),
                "bases": [{"name": b.name, "image_id": b.image_id, "ref": b.ref} for b in p.bases],
            },
        )

    return each_valid(config, labs, NAME, "built", work, log)
