"""`sciapps ci`: the pipeline on one machine. The changed datalabs go through the stages in
their one order (`sciapps.stages.STAGES`), then the review is written, and with `publish`
the publication pushes what they checked and signs their release records
(`publication.publish_checked`), and the store is built from every record in the registry.
GitLab runs the same stages as jobs (.gitlab-ci.yml and the child pipeline `sciapps plan`
writes, `pipeline.gitlab`)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from sciapps.catalog.loader import discover, load_datalab, resolve
from sciapps.config import Config
from sciapps.plan import plan
from sciapps.pipeline.publication import publish_checked
from sciapps.pipeline.store import sync_store
from sciapps.review.moderation import review
from sciapps.site.build import build_store
from sciapps import stages
from sciapps.stages import Options

Log = Callable[[str], None]


def run_ci(config: Config, base: str, author: str | None, publish: bool, osv_mirror: Path | None, log: Log) -> list[str]:
    """Run every stage on what changed since `base`; the names of the steps that failed."""
    common = ["--config", str(config.path)] if config.path else []
    # what the change affects, as the pipeline's jobs plan it: with an author, authorised as a
    # merge request's plan is (what they may not have built is held, not run)
    planned = plan(config, base, author=(lambda: author) if author else None, trusted=base if author else None)
    for line in planned.lines():
        log(line)
    ids = planned.ids("build")
    log(f"== to build since {base}: {', '.join(ids) or 'no datalab'}")
    options = Options(osv_mirror=osv_mirror)  # nothing is pushed before every check passed: the publication pushes
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
        log(f"== publish: sciapps publish {' '.join(ids + common)} --push")
        if publish_checked(config, tuple(ids), log, push=True):
            failed.append("publish")
    if publish:
        log(f"== store: sciapps releases sync {' '.join(common)}; sciapps site build")
        sync_store(config, log)
        report = build_store(config, [config.catalog], config.root / "public", config.root / "mkdocs.yml")
        warnings, line = report.messages()
        for message in warnings + [line]:
            log(message)
        if report.skipped:
            failed.append("store")
    log(f"== {'failed: ' + ', '.join(failed) if failed else 'all stages passed'}")
    return failed
