"""The GitLab child pipeline of a plan, written from the one stage list (`STAGES`).

Per batch of datalabs, one job per stage that works on datalabs (`WHOLE_CATALOG` stages
run once, in the parent's `validate` job): its `needs:` are the jobs of its batch that
make what it `NEEDS`, its artifacts its results and what it `LEAVES`, its script the
stage's own `argv`. Then, for a merge request, the moderators' review of all of them, or,
on the protected default branch, each batch's publication: `push n` (after every job of
its batch, beside the other batches' pushes) then `publish n` (its release records). A
datalab is always in the same batch (`shard`, by its id's hash), and each batch's
publications have a resource group of their own: one datalab is never published twice at
once, and the batches publish side by side. GitLab passes no artifacts from a child up to its parent, so the
publication that needs the results runs where they are. A stage added to `STAGES` is a job of every
batch, and the publication needs it.

The child's `default:` and `variables:` are SciApps' own (`trust.JOB_DEFAULT`, the
parent's setup), never a pipeline file's from the checkout, which a merge request could
edit; its first job (`trust.PREPARE_JOB`) makes SciApps for the others once, from the
plan's base revision, which is pinned in the child's variables.
"""

from __future__ import annotations

import hashlib
import re
import shlex
from dataclasses import replace
from pathlib import Path
from typing import Callable

from sciapps import stages
from sciapps.baselock import pinned_lock
from sciapps.config import Config
from sciapps.errors import SciAppsError
from sciapps.plan import Plan, commit_of, plan
from sciapps.stages import Options, Stage
from sciapps.trust import JOB_DEFAULT, JOB_VARIABLES, PREPARE_JOB

MAX_CHAINS = 50  # job chains per child pipeline by default (`pipeline: chains:` in sciapps.yaml): 6 jobs each
RESULTS = "build/results/"
PREVIEW = "preview"  # a merge request's review images and preview store, after its chains
THEN = ("review", "publish")  # what the child does after the chains: a merge request's review, or the publication
SCIAPPS = "sciapps"  # the first job's name and stage


def shard(datalab_id: str, chains: int | None = None) -> int:
    """The batch (1 to `chains`) a datalab is in, in every pipeline: by its id's hash. So
    one datalab's publications, in any two pipelines, are in one resource group, and the
    other batches' publications go on beside them."""
    return int(hashlib.sha256(datalab_id.encode()).hexdigest()[:8], 16) % (chains or MAX_CHAINS) + 1


def _batches(ids: list[str], chains: int) -> list[tuple[int, list[str]]]:
    """(batch number, its datalabs in plan order) of every batch that has any."""
    found: dict[int, list[str]] = {}
    for datalab_id in ids:
        found.setdefault(shard(datalab_id, chains), []).append(datalab_id)
    return sorted(found.items())


def per_datalab() -> tuple[Stage, ...]:
    """The stages the child pipeline runs, in order (the others run over the whole catalog in the parent)."""
    return tuple(stage for stage in stages.STAGES if not stage.WHOLE_CATALOG)


def _command(stage: Stage, ids: list[str], options: Options = Options()) -> str:
    """The stage's own command line for `ids` (its `argv`), as a job runs it."""
    return shlex.join(["sciapps", *stage.argv(ids, options)])


def _artifacts(stage: Stage) -> dict:
    return {"when": "always", "paths": [RESULTS, *stage.LEAVES]}


def child_pipeline(
    result: Plan,
    then: str | None = None,
    merge_request: str = "",
    preview_url: str = "",
    target_branch: str = "",
    pinned_bases: str = "",
    chains: int = MAX_CHAINS,
) -> dict:
    """The child pipeline of `result` (see the module). When publishing, a datalab's failure
    does not stop the others of its batch: the jobs may end with findings (exit 1) and the
    publication signs only the datalabs whose every check passed; the rest are reported."""
    if then is not None and then not in THEN:
        raise SciAppsError(f"{then!r} is not a child pipeline's last step", f"choose from {', '.join(THEN)}")
    publishing = then == "publish"
    if pinned_bases:  # the plan's job built and pushed them: every chain pulls them by digest, builds none
        bases = 'sciapps base-images pull --pinned "$SCIAPPS_BASES" | tail -3'
    elif result.security_updates:
        bases = "sciapps base-images build --security-updates | tail -3"
    else:
        bases = "sciapps base-images build | tail -3"
    # Where the registry takes the bases it takes the images too: each build stages what it made
    # (`ledger`), and every later job of its chain pulls or copies that digest, on any runner.
    # Without pinned bases (a registry this pipeline may not push to) a chain keeps to one runner.
    options = Options(stage_to=("review" if then == "review" else "staging") if pinned_bases else "")
    findings_allowed = {"allow_failure": {"exit_codes": [1]}} if publishing else {}
    chain = per_datalab()
    names = {stage.NAME for stage in chain}
    jobs: dict = {}
    for n, batch in _batches(result.ids("build"), chains):
        for stage in chain:
            needs = [f"{need} {n}" for need in stage.NEEDS if need in names]
            jobs[f"{stage.NAME} {n}"] = {
                "stage": stage.NAME,
                **({"needs": [SCIAPPS, *needs]} if needs else {}),
                "script": [*([bases] if stage.NEEDS_BASES else []), _command(stage, batch, options)],
                "artifacts": _artifacts(stage),
                **findings_allowed,
            }
        if publishing:
            # the push of what the batch's jobs checked, beside the other batches' pushes ...
            jobs[f"push {n}"] = {
                "stage": "push",
                "needs": [SCIAPPS, *(f"{stage.NAME} {n}" for stage in chain)],
                "allow_failure": {"exit_codes": [1]},
                "script": [shlex.join(["sciapps", "push", *batch])],
                "artifacts": {"when": "always", "paths": [RESULTS, *(path for stage in chain for path in stage.LEAVES)]},
            }
            # ... then its release records: a rebuild's build number counts the records before it, so the
            # publications of one batch (and so of one datalab) never run at once, in any two pipelines
            jobs[f"publish {n}"] = {
                "stage": "publish",
                "needs": [SCIAPPS, f"push {n}"],
                "resource_group": f"sciapps-publish-{n}",
                "allow_failure": {"exit_codes": [1]},
                "script": [shlex.join(["sciapps", "publish", *batch]) + " ${SCIAPPS_ISSUES_TOKEN:+--notify}"],
            }
    for n, batch in _batches(result.ids("chart"), chains):
        chart = stages.by_name("chart")
        jobs[f"chart only {n}"] = {
            "stage": chart.NAME,
            "needs": [SCIAPPS],
            "script": [_command(chart, batch)],
            "artifacts": _artifacts(chart),
        }
        if publishing:
            jobs[f"publish charts {n}"] = {
                "stage": "publish",
                "needs": [SCIAPPS, f"chart only {n}"],
                "resource_group": f"sciapps-publish-{n}",
                "script": [shlex.join(["sciapps", "push", *batch, "--chart-only"])],
            }
    if then == "review":
        # A merge request's review images (GitLab's job credentials, never the protected
        # publication ones) and its preview store, on an origin of its own (SECURITY.md).
        images = []
        for n, batch in _batches(result.ids("build"), chains):
            images.append(f"review image {n}")
            jobs[images[-1]] = {
                "stage": PREVIEW,
                "needs": [SCIAPPS, *(f"{stage.NAME} {n}" for stage in chain)],
                "allow_failure": {"exit_codes": [1]},  # a datalab whose test failed has none; the preview says so
                "script": [shlex.join(["sciapps", "push", "--review", *batch]) + ' --merge-request "$SCIAPPS_MERGE_REQUEST_IID"'],
                "artifacts": {"when": "always", "paths": [RESULTS]},
            }
        jobs["preview"] = {
            "stage": PREVIEW,
            "needs": [SCIAPPS, *images, *(f"chart only {n}" for n, _ in _batches(result.ids("chart"), chains))],
            "cache": {"key": "sciapps-store", "paths": ["build/releases/"], "policy": "pull"},
            "script": [
                'sciapps preview --base "$BASE_REV" --merge-request "$SCIAPPS_MERGE_REQUEST_IID" --out public-preview',
                'echo "PREVIEW_JOB_ID=$CI_JOB_ID" > preview.env',  # which job's artifact the previews' Pages deploy
            ],
            "artifacts": {
                "expose_as": "preview store",
                "paths": ["public-preview/"],
                "expire_in": "2 weeks",
                "reports": {"dotenv": "preview.env"},
            },
        }
        # Deployed by the previews' own Pages project (store.preview_url), never this one's Pages:
        # GitLab shows the environment's URL on the merge request, and stops it when the merge request closes.
        if preview_url:
            jobs["preview pages"] = {
                "stage": PREVIEW,
                "needs": ["preview"],
                "rules": [{"if": "$SCIAPPS_PREVIEWS_PROJECT"}],
                "variables": {
                    "PREVIEW_SOURCE_PROJECT": "$CI_PROJECT_ID",
                    "PREVIEW_JOB": "$PREVIEW_JOB_ID",
                    "PREVIEW_MERGE_REQUEST": "$SCIAPPS_MERGE_REQUEST_IID",
                },
                "environment": {
                    "name": f"preview/mr-{merge_request}",
                    "url": f"{preview_url.rstrip('/')}/mr-{merge_request}/",
                    "auto_stop_in": "2 weeks",
                },
                "trigger": {"project": "$SCIAPPS_PREVIEWS_PROJECT", "branch": "main"},
            }
        # after every chain (no needs: it gets every earlier job's results); the judged
        # rules are the target branch's, its job setup puts them in place
        jobs["review"] = {
            "stage": "review",
            "script": [
                'sciapps review --base "$BASE_REV" --trusted "$SCIAPPS_TRUSTED_REV" --author-from-gitlab --output review.md'
            ],
            "artifacts": {"when": "always", "expose_as": "moderation report", "paths": ["review.md", "review-notebooks/"]},
        }
    if not jobs:  # GitLab refuses a pipeline without jobs
        return {"stages": ["nothing"], "nothing to do": {"stage": "nothing", "script": ["echo 'the plan affects no datalab'"]}}
    after = {"review": [PREVIEW, "review"], "publish": ["push", "publish"]}.get(then or "", [])
    child: dict = {"stages": [SCIAPPS, *(stage.NAME for stage in chain), *after]}
    variables = dict(JOB_VARIABLES)
    if result.base:
        variables["BASE_REV"] = result.base
    if pinned_bases:  # the approved bases the plan's job pushed, by digest (`baselock.pinned`)
        variables["SCIAPPS_BASES"] = pinned_bases
    if then == "review":  # the child's source is parent_pipeline: its jobs are told they judge a merge request
        variables["SCIAPPS_MERGE_REQUEST"] = "true"
        if not result.trusted or not re.fullmatch(r"[0-9a-f]{40}", result.trusted):
            raise SciAppsError("a merge request's child pipeline needs the trusted head as a commit", "pass --trusted")
        # what every child job trusts: the head the parent's jobs trusted, the branch it is the head of
        variables["SCIAPPS_TRUSTED_REV"] = result.trusted
        if not re.fullmatch(r"[A-Za-z0-9._/-]{1,200}", target_branch):
            raise SciAppsError(f"{target_branch[:40]!r} is not a branch name", "the merge request's target branch")
        variables["SCIAPPS_TARGET_BRANCH"] = target_branch
        if not re.fullmatch(r"[0-9]{0,12}", merge_request):
            raise SciAppsError(f"{merge_request[:20]!r} is not a merge request's number", "give its IID, e.g. 12")
        variables["SCIAPPS_MERGE_REQUEST_IID"] = merge_request
    child["variables"] = variables
    child["default"] = JOB_DEFAULT
    return {**child, SCIAPPS: PREPARE_JOB, **jobs}


def write_plan(
    config: Config,
    base_rev: str | None,
    everything: bool,
    output: Path | None,
    child: Path | None,
    log,
    then: str | None = None,
    outdated: bool = False,
    author: Callable[[], str | None] | None = None,
    merge_request: str = "",
    trusted: str | None = None,
    target_branch: str = "",
) -> Plan:
    """`sciapps plan`: print the plan, and write it and its child pipeline when asked.
    A merge request's plan (`then == "review"`) authorises first (`author`: who opened it)."""
    from sciapps.safefiles import write_atomically

    if then == "review" and author is None:
        author = lambda: None  # noqa: E731 (nobody named: nothing that needs a role is built)
    review = then == "review"
    result = plan(config, base_rev, everything, outdated, author if review else None, trusted if review else None)
    for line in result.lines():
        log(line)
    log(
        f"{len(result.ids('build'))} to build, {len(result.ids('chart'))} to chart only"
        + (f", {len(result.held)} held for a moderator" if result.held else "")
    )
    if output:
        write_atomically(output, result.as_json() + "\n")
    if child:
        import yaml

        class Dumper(yaml.SafeDumper):  # every job spelled out, no YAML anchors
            def ignore_aliases(self, data):
                return True

        pinned = replace(result, base=commit_of(config.root, base_rev)) if base_rev else result
        if pinned.trusted:
            pinned = replace(pinned, trusted=commit_of(config.root, pinned.trusted))
        text = "# Written by `sciapps plan`: the child pipeline of this change. Do not edit.\n"
        write_atomically(
            child,
            text
            + yaml.dump(
                child_pipeline(
                    pinned, then, merge_request, config.preview_url, target_branch, pinned_lock(config), config.chains
                ),
                Dumper=Dumper,
                sort_keys=False,
            ),
        )
    return result
