"""`sciapps ci`: the merge-request pipeline on one machine. The changed datalabs go through
the stages in their one order (`sciapps.stages.STAGES`), then the review is written, and
with `publish` the images and charts are pushed, their release records signed and
attached, and the store built from every record in the registry. GitLab runs the same stages as jobs (.gitlab-ci.yml
and the child pipeline `sciapps plan` writes), whose chains end with `sciapps publish --push` (`publish_checked`)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from sciapps.catalog.loader import discover, load_datalab, resolve
from sciapps.config import Config
from sciapps.plan import plan
from sciapps.releases.commands import publish_ids, sync_releases
from sciapps.review.moderation import review
from sciapps.site.build import build_store
from sciapps import stages
from sciapps.stages import Options
from sciapps.text import md_code

Log = Callable[[str], None]


def run_ci(config: Config, base: str, author: str | None, publish: bool, osv_mirror: Path | None, log: Log) -> list[str]:
    """Run every stage on what changed since `base`; the names of the steps that failed."""
    common = ["--config", str(config.path)] if config.path else []
    # what the change affects, as the pipeline's jobs plan it: with an author, authorised as a
    # merge request's plan is (what they may not have built is held, not run)
    planned = plan(config, base, author=(lambda: author) if author else None)
    for warning in planned.warnings:
        log(warning)
    for item in planned.items:
        log(f"{item.work:5}  {item.datalab}: {'; '.join(item.reasons)}")
    for item in planned.held:
        log(f"held   {item.datalab}: waits for a moderator: {item.reasons[-1]}")
    ids = planned.ids("build")
    log(f"== to build since {base}: {', '.join(ids) or 'no datalab'}")
    options = Options(push=publish, osv_mirror=osv_mirror)
    changed = resolve(config, ids)  # loaded once: every stage takes these same objects
    by_folder = {lab.dir: lab for lab in changed}
    catalog = [by_folder.get(folder) or load_datalab(folder, config.limits) for folder in discover([config.catalog])]
    failed = []
    for stage in stages.STAGES:
        if stage.WHOLE_CATALOG:  # a change may break another datalab too (a duplicate id)
            labs = catalog
        elif ids:
            labs = changed
        else:
            continue
        log(f"== {stage.NAME}: sciapps {' '.join(stage.argv(ids, options) + common)}")
        if not stage.run(config, labs, options, log).ok:
            failed.append(stage.NAME)
            if stage.GATES:
                break  # later stages need what this one makes
    output = config.root / "build" / "review.md"
    log(f"== review: sciapps review --base {base} -o {output}" + (f" --author {author}" if author else ""))
    text, ok = review(config.path, base, author, output=output)
    log(text)
    if not ok:
        failed.append("review")
    if publish and ids and not failed:
        log(f"== publish: sciapps publish {' '.join(ids + common)}")
        if publish_ids(config, tuple(ids), log):
            failed.append("publish")
    if publish:
        log(f"== store: sciapps releases sync {' '.join(common)}; sciapps site build")
        sync_releases(config, log)
        report = build_store(config, [config.catalog], config.root / "public", config.root / "mkdocs.yml")
        warnings, line = report.messages()
        for message in warnings + [line]:
            log(message)
        if report.skipped:
            failed.append("store")
    log(f"== {'failed: ' + ', '.join(failed) if failed else 'all stages passed'}")
    return failed


def publish_checked(config: Config, ids: tuple[str, ...], log: Log, push: bool = True, notify: bool = False,
                    token: str | None = None) -> int:
    """`sciapps publish --push`: of `ids`, the datalabs whose every check of their current
    version passed in this pipeline get their image and chart pushed and their release
    record signed; the others are named, with why, and (with `notify`) their maintainers
    get one GitLab issue each, closed by the next publication that passes. 1 when any
    datalab was not published."""
    import datetime

    from sciapps.maintainers import maintainers_issues
    from sciapps.releases import signing
    from sciapps.releases.commands import registry_of
    from sciapps.releases.publish import publish, unchecked

    signer = signing.signer_from_environment()  # before anything is pushed: no key, nothing to publish
    labs = resolve(config, list(ids))
    refused = {lab.id: why for lab in labs if (why := unchecked(config, lab))}
    ready = [lab for lab in labs if lab.id not in refused]
    for stage, what in (("build", "image"), ("chart", "chart")) if push else ():
        if ready:
            failed = stages.by_name(stage).run(config, ready, Options(push=True), log).failed
            refused.update({i: f"its {what} could not be pushed (see the log above)" for i in failed})
            ready = [lab for lab in ready if lab.id not in refused]
    for datalab, why in sorted(refused.items()):
        log(f"{datalab}: not published: {why}")
    if ready:
        for outcome in publish(config, ready, registry_of(config), signer, log):  # it names its own refusals
            if outcome.status == "refused":
                refused[outcome.datalab] = outcome.why
    if notify:
        today = datetime.date.today().isoformat()
        bodies = {datalab: (f"The pipeline of {today} did not publish {md_code(datalab)}.\n\nWhy: {md_code(why, 1000)}\n\n"
                            "Its current version stays as it was published before. Fix it on a merge request; "
                            "this issue is updated by every publication and closed by the first that passes.")
                  for datalab, why in refused.items()}
        maintainers_issues(config, "publish", bodies, "{id} was not published", today, token, log, scope={lab.id for lab in labs})
    return 1 if refused else 0
