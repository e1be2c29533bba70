"""`sciapps health`: the tests of every published datalab run again, on its current release's
published image (by digest), on a schedule: an archive moved or a package yanked shows.

For each published datalab, the newest build of its current version whose release record
verifies is pulled by digest and tested as `sciapps test` tests a new build (the service
starts, its test notebooks and `verify` script pass). One datalab that cannot be pulled,
started or tested is a failed health check, never the end of the run. The results go to
`build/health.json`, which the store shows on the version; with `--notify`, a datalab
that stopped working gets one issue for its maintainers, closed when it works again.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass, field
from typing import Callable

from sciapps.catalog.loader import discover, load_datalab
from sciapps.config import Config, registry_login
from sciapps.engine import Engine
from sciapps.errors import SciAppsError
from sciapps.text import md_block, md_code
from sciapps.revisits.exports import HEALTH_FILE
from sciapps.revisits.issues import maintainers_issues
from sciapps.releases.judge import pick
from sciapps.releases.mirror import Mirror as Releases
from sciapps.releases.signing import public_key
from sciapps.safefiles import write_atomically
from sciapps.schema import is_datalab_id
from sciapps.catalog.launching import declared
from sciapps.testing.runner import run_tests

Log = Callable[[str], None]


@dataclass
class HealthReport:
    checked: str
    releases: dict[str, dict] = field(default_factory=dict)  # "<id>/<digest hex>" -> the result
    unchecked: dict[str, str] = field(default_factory=dict)  # id -> why it was not tested

    def found(self) -> bool:
        return bool(self.failing())

    def failing(self) -> dict[str, dict]:
        return {e["datalab"]: e for e in self.releases.values() if not e["passed"]}


def run(config: Config, log: Log, notebook_timeout: float = 600) -> HealthReport:
    releases = Releases(config.path_of(config.releases_dir), public_key(config.path_of(config.release_key)))
    engine = Engine(login=registry_login(config))
    report = HealthReport(datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"))
    for folder in discover([config.catalog]) if config.catalog.is_dir() else []:
        if not is_datalab_id(folder.name):
            continue
        lab = load_datalab(folder, config.limits)
        meta = lab.metadata or {}
        if meta.get("status") != "published" or meta.get("id") != folder.name:
            continue
        judged = pick([j for j in releases.releases(lab.id) if j.verified], str(meta.get("version")))
        if judged is None or judged.release.version != meta.get("version"):
            report.unchecked[lab.id] = f"{meta.get('version')} has no verified release to test"
            continue
        r = judged.release
        entry = {"datalab": lab.id, "version": r.version, "build": r.build, "image": r.image}
        try:
            if engine.image_id(r.image) is None:
                engine.pull(r.image)
            tested = run_tests(
                engine, lab, r.image, notebook_timeout=notebook_timeout, log=log, parameters=declared(meta, config)
            )
            entry.update(
                passed=tested.passed,
                summary=tested.summary()[:300],
                failed=[{"check": c.name, "output": c.output[-1500:]} for c in tested.checks if not c.passed],
            )
        except SciAppsError as exc:  # one datalab that cannot be pulled or started never stops the run
            entry.update(
                passed=False,
                summary=f"could not be tested: {exc.message}"[:300],
                failed=[{"check": "start", "output": str(exc)[:1500]}],
            )
        report.releases[f"{lab.id}/{r.key}"] = entry
        log(f"{lab.id} {r.version} build {r.build}: {'works' if entry['passed'] else 'STOPPED WORKING'}: {entry['summary']}")
    write_atomically(
        config.path_of(HEALTH_FILE),
        json.dumps({"checked": report.checked, "releases": report.releases, "unchecked": report.unchecked}, sort_keys=True)
        + "\n",
    )
    log(
        f"health: {len(report.releases)} release(s) tested, {len(report.failing())} "
        f"stopped working, {len(report.unchecked)} not tested"
    )
    return report


def issue_body(entry: dict, checked: str) -> str:
    """The maintainers' issue: the test output is the datalab's own, so it is only ever a
    code span or a fenced block (`text.md_*`), never Markdown GitLab would render or run."""
    lines = [
        f"`sciapps health` found that the published {md_code(entry['datalab'])} {md_code(entry['version'])} build "
        f"{md_code(entry['build'])} stopped working (checked {md_code(checked[:10])}).",
        "",
        f"Image: {md_code(entry['image'])}",
        "",
        f"Summary: {md_code(entry['summary'])}",
        "",
    ]
    for failed in entry["failed"][:5]:
        lines += [f"### {md_code(failed['check'], 120)}", *md_block(failed["output"], 1200), ""]
    lines.append("Publish a fixed version; this issue is updated by every health run and closed when it works again.")
    return "\n".join(lines)


def notify(config: Config, report: HealthReport, token: str | None, log: Log) -> dict[str, str]:
    bodies = {datalab: issue_body(entry, report.checked) for datalab, entry in report.failing().items()}
    return maintainers_issues(config, "health", bodies, "The published {id} stopped working", report.checked, token, log)
