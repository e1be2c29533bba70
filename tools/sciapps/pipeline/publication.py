"""The publication: push what the pipeline checked, then sign its release record.

Two steps, neither of which runs a stage again:

1. **push** (`sciapps push`): of each datalab whose every check passed here, the image the
   build staged is copied in the registry to its release tag (the same digest: nothing is
   pulled to this runner, rebuilt or pushed again), the chart package the chart stage made
   (the same sha256) is pushed, and what was pushed is recorded beside the results
   (`results.write_pushed`). An image or a package that is not the checked one is refused,
   named, and not pushed;
2. **sign** (`sciapps publish`): the release record cites exactly those results and that
   push (`sciapps.releases.publish`).

The checks a publication requires are the stages shown as checks (`stages.checks()`):
a stage added to `STAGES` is required here with no other change.
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import replace
from typing import Callable

from sciapps import stages
from sciapps.catalog.loader import resolve
from sciapps.catalog.model import Datalab
from sciapps.config import CHART_PACKAGES, Config, chart_packages, job_login, registry_login, review_repository
from sciapps.errors import SciAppsError
from sciapps import ledger
from sciapps.ledger import Built, ChartPackage
from sciapps.results import write_pushed
from sciapps.text import md_code

Log = Callable[[str], None]
MAX_PACKAGE_BYTES = 16 * 1024 * 1024


def _chart_package(config: Config, package: ChartPackage | None) -> tuple[str, bytes]:
    name = package.name if package else ""
    path = chart_packages(config) / name
    if not name or "/" in name or not path.is_file() or path.is_symlink() or path.stat().st_size > MAX_PACKAGE_BYTES:
        raise SciAppsError(
            f"the chart package {name or '(none)'} the chart stage made is not in {CHART_PACKAGES}/",
            "run the chart job of this pipeline first",
        )
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != package.sha256:
        raise SciAppsError(
            f"{CHART_PACKAGES}/{name} is not the package the chart stage checked (its sha256 differs)",
            "run the chart job of this pipeline again",
        )
    return name, data


def _hand_on(built: Built, target: str, registry, engine_of: Callable[[], object], log: Log, lab_id: str) -> str:
    """Give the image the build checked the name `target` (`<repository>:<tag>`); its digest.
    A staged image is copied in the registry, the same digest, whichever runner this job is
    on; an image built without staging (`sciapps build` on this machine) is pushed from this
    engine, which must hold exactly the image the build checked."""
    repository, _, tag = target.rpartition(":")
    if built.staged is not None:
        log(f"{lab_id}: copying {built.staged.pinned} to {target}")
        return registry().copy_image(built.staged.repository, built.staged.digest, repository, tag)
    engine = engine_of()
    if not built.image_id or engine.image_id(built.ref) != built.image_id:
        raise SciAppsError(
            f"the image the build checked ({str(built.image_id)[:19]}) was not staged, "
            f"and is not on this engine under {built.ref}",
            "build with `--stage-to staging` (as the pipeline does), or push from the machine that built it",
        )
    log(f"{lab_id}: pushing {target}")
    if target == built.ref:
        return engine.push(target)
    engine.tag(built.image_id, target)
    try:
        return engine.push(target)
    finally:
        engine.untag(target)


def _in_registry(config: Config, lab: Datalab, built: Built) -> None:
    """Refuse a build record that names an image outside the datalab's repositories of the
    catalog's registry: nothing else is copied or pushed under its name."""
    if not built.ref.startswith(f"{config.registry.rstrip('/')}/{lab.id}:") or (
        built.staged is not None and not built.staged.within(config.registry)
    ):
        raise SciAppsError(
            f"the build recorded {built.ref[:200]}"
            + (f", staged as {built.staged.pinned[:200]}" if built.staged else "")
            + f": not {lab.id}'s images in the catalog's registry {config.registry}",
            "run the pipeline again",
        )


def push_one(
    config: Config, lab: Datalab, chain: ledger.Ledger, engine_of, registry, login, log: Log, chart_only: bool = False
) -> ledger.Ledger:
    """Push the checked image (unless `chart_only`) and chart of `lab`, as its ledger
    (`chain`) records them; the ledger with what was pushed. Both are checked to be the
    ones the stages checked before either is pushed. `engine_of()` and `registry()` give the
    Docker engine and the registry client, made only when needed."""
    from sciapps.charts.chart import push_chart

    if chain.problems:
        raise SciAppsError(chain.problems[0], "run this pipeline's jobs again")
    if not chain.passed("chart"):
        raise SciAppsError("its chart did not pass in this pipeline", f"run `sciapps chart {lab.id}` first")
    name, data = _chart_package(config, chain.chart_package)
    pushed: dict = {}
    if not chart_only:
        built = chain.built
        if built is None:
            raise SciAppsError("its build did not pass in this pipeline", f"run `sciapps build {lab.id}` first")
        _in_registry(config, lab, built)
        pushed["image"] = {
            "ref": built.ref,
            "image_id": built.image_id,
            "digest": _hand_on(built, built.ref, registry, engine_of, log, lab.id),
            **({"staged": built.staged.pinned} if built.staged else {}),
        }
    pushed["chart"] = {
        "ref": push_chart(chart_packages(config) / name, config.charts_oci, login),
        "package": name,
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    log(f"{lab.id}: pushed {pushed['chart']['ref']}")
    write_pushed(config.path_of(config.results_dir), lab.id, pushed)
    return replace(chain, pushed=pushed)


def _lazy(make: Callable[[], object]) -> Callable[[], object]:
    made: list = []
    return lambda: made[0] if made else made.append(make()) or made[0]


def push_checked(
    config: Config, chains: dict[str, ledger.Ledger], labs: list[Datalab], log: Log, chart_only: bool = False, environ=None
) -> dict[str, str]:
    """`sciapps push`: push what this pipeline checked of each of `labs` (their ledgers in
    `chains`, which gain what was pushed); {id: why not}."""
    import os

    from sciapps.engine import Engine
    from sciapps.releases.registry import Registry

    login = registry_login(config, os.environ if environ is None else environ)
    engine_of = _lazy(lambda: Engine(login=login))
    registry = _lazy(lambda: Registry(config.registry, login))
    refused: dict[str, str] = {}
    for lab in labs:
        try:
            chains[lab.id] = push_one(config, lab, chains[lab.id], engine_of, registry, login, log, chart_only)
        except SciAppsError as exc:
            refused[lab.id] = f"not pushed: {exc.message}" + (f" ({exc.hint})" if exc.hint else "")
            log(f"{lab.id}: {refused[lab.id]}")
    return refused


def push_ids(config: Config, ids: tuple[str, ...], log: Log, chart_only: bool = False) -> int:
    labs = resolve(config, list(ids))
    chains = _ledgers(config, labs)
    refused = {}
    if not chart_only:
        refused = {lab.id: why for lab in labs if (why := _why_not(chains[lab.id], lab))}
        for datalab, why in sorted(refused.items()):
            log(f"{datalab}: not pushed: {why}")
        labs = [lab for lab in labs if lab.id not in refused]
    refused.update(push_checked(config, chains, labs, log, chart_only))
    return 1 if refused else 0


def _ledgers(config: Config, labs: list[Datalab]) -> dict[str, ledger.Ledger]:
    """The ledger of each of `labs`, read once by the job."""
    return {lab.id: ledger.read(config.path_of(config.results_dir), lab.id) for lab in labs}


def _why_not(chain: ledger.Ledger, lab: Datalab) -> str | None:
    """Why this pipeline's ledger does not let `lab`'s current version be published: the one rule."""
    return chain.why_unchecked(stages.checks(), str((lab.metadata or {}).get("version")))


def publish_checked(
    config: Config,
    ids: tuple[str, ...],
    log: Log,
    push: bool = True,
    notify: bool = False,
    token: str | None = None,
    environ=None,
) -> int:
    """`sciapps publish [--push]`: of `ids`, the datalabs whose every check (`stages.checks()`)
    of their current version passed in this pipeline get their image and chart pushed (with
    `push`; else an earlier `sciapps push` did) and their release record signed; the others
    are named, with why, and (with `notify`) their maintainers get one GitLab issue each,
    closed by the next publication that passes. 1 when any datalab was not published."""
    import os

    from sciapps.revisits.issues import maintainers_issues
    from sciapps.releases import signing
    from sciapps.releases.commands import registry_of
    from sciapps.releases.publish import publish

    environ = os.environ if environ is None else environ
    required = stages.checks()
    labs = resolve(config, list(ids))  # an id that is not one: a usage error, before anything else
    signer = signing.signer_from_environment(environ)  # before anything is pushed: no key, nothing to publish
    chains = _ledgers(config, labs)
    refused = {lab.id: why for lab in labs if (why := _why_not(chains[lab.id], lab))}
    for datalab, why in sorted(refused.items()):
        log(f"{datalab}: not published: {why}")
    ready = [lab for lab in labs if lab.id not in refused]
    if push and ready:
        refused.update(push_checked(config, chains, ready, log, environ=environ))
        ready = [lab for lab in ready if lab.id not in refused]
    if ready:
        for outcome in publish(
            config, ready, registry_of(config, environ), signer, log, required, environ, chains
        ):  # it names its refusals
            if outcome.status == "refused":
                refused[outcome.datalab] = outcome.why
    if notify:
        today = datetime.date.today().isoformat()
        bodies = {
            datalab: (
                f"The pipeline of {today} did not publish {md_code(datalab)}.\n\nWhy: {md_code(why, 1000)}\n\n"
                "Its current version stays as it was published before. Fix it on a merge request; "
                "this issue is updated by every publication and closed by the first that passes."
            )
            for datalab, why in refused.items()
        }
        maintainers_issues(config, "publish", bodies, "{id} was not published", today, token, log, scope={lab.id for lab in labs})
    return 1 if refused else 0


def push_review(config: Config, ids: tuple[str, ...], merge_request: str, commit_sha: str, log: Log, environ=None) -> int:
    """`sciapps push --review`: tag the image this pipeline built, staged and tested of each
    datalab as `<registry>/review/<id>:mr-<N>-<commit>` (a copy in the registry, the same
    digest), with GitLab's job credentials only (never the protected publication
    credentials), and record its digest (`results.REVIEW_IMAGE`) for the preview store.
    Nothing is signed: a review image is never a release."""
    import os
    import re

    from sciapps.engine import Engine
    from sciapps.releases.registry import Registry
    from sciapps.results import REVIEW_IMAGE

    if not re.fullmatch(r"[0-9]{1,12}", merge_request or "") or not re.fullmatch(r"[0-9a-f]{7,64}", commit_sha or ""):
        raise SciAppsError(
            "a review image needs the merge request's number and commit",
            "run it in a merge request pipeline, or give --merge-request N --commit SHA",
        )
    environ = os.environ if environ is None else environ
    login = job_login(config, environ)
    engine_of = _lazy(lambda: Engine(login=login))
    registry = _lazy(lambda: Registry(config.registry, login))
    failed = 0
    for lab in resolve(config, list(ids)):
        chain = ledger.read(config.path_of(config.results_dir), lab.id)
        built = chain.built
        if chain.problems or built is None or not chain.passed("test"):
            log(f"{lab.id}: no review image: its build and test did not both pass in this pipeline")
            failed += 1
            continue
        repository, tag = review_repository(config, lab.id), f"mr-{merge_request}-{commit_sha[:12]}"
        try:  # a copy in the registry when staged: the very digest the tests ran, on any runner
            _in_registry(config, lab, built)
            digest = _hand_on(built, f"{repository}:{tag}", registry, engine_of, log, lab.id)
        except SciAppsError as exc:
            log(f"{lab.id}: no review image: {exc.message}")
            failed += 1
            continue
        image = f"{repository}@{digest}"
        write_pushed(
            config.path_of(config.results_dir),
            lab.id,
            {"image": image, "tag": tag, "merge_request": merge_request, "commit": commit_sha},
            REVIEW_IMAGE,
        )
        log(f"{lab.id}: review image {image} (merge request !{merge_request}; unreviewed, never signed)")
    return 1 if failed else 0
