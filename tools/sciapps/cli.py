"""The `sciapps` command: click parsing only. Each command parses its options, calls the
stage that does the work and maps the outcome to an exit code:
0 ok, 1 findings, 2 usage or setup error, 3 internal error (traceback in a log file).
"""

from __future__ import annotations

import errno
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import click

from sciapps import __version__, errors


ENVIRONMENT_ERRNOS = {  # errors of the machine, not bugs: exit 2 with the remedy
    errno.ENOSPC: "free some disk space, then run the command again",
    errno.EDQUOT: "free some of your disk quota, then run the command again",
    errno.EROFS: "the file system is read-only: choose a writable place (--out, --output, --config)",
    errno.EACCES: "you may not write or read there: choose another place or fix its permissions",
    errno.EPERM: "you may not write or read there: choose another place or fix its permissions",
}


class _Group(click.Group):
    """Turns any exception into a clear message and an exit code; never a traceback."""

    def main(self, *args, **kwargs):
        kwargs["standalone_mode"] = False
        try:
            code = super().main(*args, **kwargs)
        except click.exceptions.Exit as exc:
            code = exc.exit_code
        except click.ClickException as exc:
            exc.show()
            code = errors.USAGE
        except click.exceptions.Abort:
            click.echo("Interrupted.", err=True)
            code = 130
        except errors.SciAppsError as exc:
            click.echo(f"error: {exc}", err=True)
            code = exc.exit_code
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            code = 130
        except OSError as exc:
            if exc.errno not in ENVIRONMENT_ERRNOS:
                code = self._crash(exc)
            else:  # the machine's, not SciApps': disk full, read-only, no permission
                where = f" ({exc.filename})" if exc.filename else ""
                click.echo(f"error: {exc.strerror or exc}{where}\n  hint: {ENVIRONMENT_ERRNOS[exc.errno]}", err=True)
                code = errors.USAGE
        except Exception as exc:  # a bug: keep the traceback in a log, not on screen
            code = self._crash(exc)
        sys.exit(code if isinstance(code, int) else 0)

    @staticmethod
    def _crash(exc: Exception) -> int:
        from sciapps.errorlog import redact, write_crash_log

        path = write_crash_log(exc)
        click.echo(
            redact(f"internal error: {type(exc).__name__}: {exc}\n")
            + f"  This is a bug in SciApps {__version__}. The details are in {path}; please attach that file to an issue.",
            err=True,
        )
        return errors.INTERNAL


def _config(config_path: Path | None):
    from sciapps.config import load_config

    return load_config(config_path)


config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path, exists=True),
    help="sciapps.yaml to use (default: the nearest one above the current folder).",
)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sciapps")
def cli():
    """SciApps: the science application store for ESA Datalabs."""


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json", "codequality"]), default="text", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write the report to this file.")
@click.option("-v", "--verbose", is_flag=True, help="Show every schema error, not only the best match.")
@click.option("--strict", is_flag=True, help="Warnings fail too (exit 1).")
@click.option("-j", "--jobs", type=click.IntRange(min=1), help="Worker processes (default: one per CPU).")
@config_option
def validate(paths, fmt, output, verbose, strict, jobs, config_path):
    """Check datalabs: a catalog, datalab folders, or files inside them (default: datalabs/)."""
    from sciapps.catalog.validate import Summary, default_jobs, validate as run_validate
    from sciapps.reporting import codequality, write_text

    config = _config(config_path)
    if not paths:
        default = config.root / "datalabs"
        if not default.is_dir():
            raise errors.SciAppsError("no datalabs/ folder here", "run in a catalog repository or name the folders to check")
        paths = (default,)
    summary = Summary()
    stream = run_validate(paths, config, verbose=verbose, summary=summary, jobs=jobs or default_jobs())
    if fmt == "text" and output is None:
        write_text(stream, sys.stdout)
        findings = []
    else:
        findings = list(stream)
    counts = {"datalabs": summary.datalabs, "errors": summary.errors, "warnings": summary.warnings, "by_status": summary.by_status}
    if fmt == "json":
        report = json.dumps({"summary": counts, "findings": [f.as_dict() for f in findings]}, indent=2) + "\n"
    elif fmt == "codequality":
        report = json.dumps(codequality(findings), indent=2) + "\n"
    else:
        report = "".join(f.format() + "\n" for f in findings)
    if output is not None:
        _write_atomically(output, report)
    else:
        sys.stdout.write(report)
    statuses = ", ".join(f"{n} {status}" for status, n in sorted(summary.by_status.items()))
    line = (
        f"Checked {summary.datalabs} datalab{'s' if summary.datalabs != 1 else ''}"
        + (f" ({statuses})" if statuses else "")
        + f": {summary.errors} error{'s' if summary.errors != 1 else ''}, "
        + f"{summary.warnings} warning{'s' if summary.warnings != 1 else ''}."
    )
    click.echo(line, err=fmt != "text" and output is None)
    failed = summary.errors > 0 or (strict and summary.warnings > 0)
    return errors.FINDINGS if failed else errors.OK


@cli.command()
@click.argument("datalab_id", metavar="ID")
@click.option("--type", "kind", type=click.Choice(["jupyterlab", "vnc"]), required=True, help="What the datalab opens.")
@click.option("--advanced", is_flag=True, help="Bring your own Dockerfile (FROM an approved base image).")
@click.option("--from", "from_notebook", type=click.Path(dir_okay=False, path_type=Path, exists=True), help="Start from this notebook.")
@click.option("--app", default="xterm", show_default=True, help="For --type vnc: the desktop application to start (a Debian package).")
@click.option("--maintainer", help="'Full Name <email>' (default: from git config).")
@click.option("--username", help="Your GitLab username (default: the e-mail's local part).")
@click.option("--catalog", type=click.Path(file_okay=False, path_type=Path), help="The datalabs/ folder (default: the repository's).")
@config_option
def new(datalab_id, kind, advanced, from_notebook, app, maintainer, username, catalog, config_path):
    """Create a datalab that validates at once. All you need to bring is a notebook."""
    from sciapps.catalog.scaffold import NewOptions, create, maintainer_from_git, parse_maintainer
    from sciapps.schema import datalab_schema

    if from_notebook is not None and kind != "jupyterlab":
        raise click.UsageError("--from NOTEBOOK goes with --type jupyterlab")
    config = _config(config_path)
    catalog = (catalog or config.root / "datalabs").absolute()
    person = parse_maintainer(maintainer, username) if maintainer else maintainer_from_git(catalog.parent)
    if person is not None and username:
        person = type(person)(person.name, person.email, username)
    # Editors follow the catalog's own copy of the schema when there is one, else the published one.
    local = catalog.parent / "schemas" / "datalab.schema.json"
    schema_ref = os.path.relpath(local, catalog / datalab_id) if local.is_file() else datalab_schema()["$id"]
    opts = NewOptions(datalab_id, kind, catalog, advanced, from_notebook, app, person, schema_ref)
    target = create(opts)
    shown = _shown(target)
    click.echo(f"Created {shown}/. Next:\n  edit {shown}/datalab.yaml\n  sciapps validate {shown}")
    return errors.OK


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def rules(fmt):
    """List the validation rules."""
    from sciapps.catalog.rules import RULES_BY_ID

    if fmt == "json":
        data = [
            {"id": r.id, "name": r.name(), "severity": r.severity, "exceptable": r.exceptable, "title": r.title(), "hint": r.hint}
            for r in RULES_BY_ID.values()
        ]
        click.echo(json.dumps(data, indent=2))
    else:
        for r in RULES_BY_ID.values():
            click.echo(f"{r.id}  {r.name():26} {r.severity:8} {r.title()}")
    return errors.OK


@cli.group()
def schema():
    """The datalab schema and the files generated from it."""


@schema.command()
@click.option("--check", is_flag=True, help="Change nothing; exit 1 if a generated file is stale.")
def generate(check):
    """Write schemas/datalab.schema.json and the reference pages from their sources."""
    from sciapps import reference
    from sciapps.resources import repo_root

    if not (repo_root() / "schemas" / "source").is_dir():
        raise errors.SciAppsError("schema sources not found", "run this from a source checkout installed with `pip install -e .`")
    if check:
        old = reference.stale()
        for rel in old:
            click.echo(f"{rel} is stale: run `sciapps schema generate`")
        return errors.FINDINGS if old else errors.OK
    for rel in reference.write():
        click.echo(f"wrote {rel}")
    return errors.OK


@cli.group()
def site():
    """The store: a static site generated from the catalog."""


def _shown(path: Path) -> str:
    """A path relative to the working directory when below it, else absolute."""
    path = path.absolute()
    return str(path.relative_to(Path.cwd())) if path.is_relative_to(Path.cwd()) else str(path)


def _store_build(out, catalog, mkdocs_config, jobs, config_path):
    from sciapps.catalog.validate import default_jobs
    from sciapps.site.build import build_store

    config = _config(config_path)
    mkdocs_file = mkdocs_config or config.root / "mkdocs.yml"
    catalog_paths = [catalog or config.root / "datalabs"]
    report = build_store(config, catalog_paths, out or config.root / "public", mkdocs_file, jobs or default_jobs())
    for folder, problem in report.skipped:
        click.echo(f"left out of the store: {problem}", err=True)
    for problem in report.problems:
        click.echo(f"warning: {problem}", err=True)
    click.echo(
        f"Built the store with {report.datalabs} datalab{'s' if report.datalabs != 1 else ''} in {report.seconds:.1f} s "
        f"into {_shown(report.out)}/ (search index {report.search_bytes / 1024:.0f} KiB)"
        + (f"; {len(report.skipped)} left out for validation errors (run `sciapps validate`)" if report.skipped else "")
    )
    return report


store_options = [
    click.option("--catalog", type=click.Path(exists=True, file_okay=False, path_type=Path), help="Catalog folder (default: datalabs/)."),
    click.option("--mkdocs-config", type=click.Path(dir_okay=False, path_type=Path), help="mkdocs.yml of the store (default: the repository's)."),
    click.option("-j", "--jobs", type=click.IntRange(min=1), help="Worker processes for validation (default: one per CPU)."),
    config_option,
]


def _with(options):
    def decorate(fn):
        for option in reversed(options):
            fn = option(fn)
        return fn

    return decorate


@site.command("build")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Where to write the store (default: public/).")
@_with(store_options)
def site_build(out, catalog, mkdocs_config, jobs, config_path):
    """Build the store from the catalog; exit 1 if a datalab was left out for errors."""
    report = _store_build(out, catalog, mkdocs_config, jobs, config_path)
    return errors.FINDINGS if report.skipped else errors.OK


@cli.command()
@click.option("--dev-addr", default="127.0.0.1:8000", show_default=True, help="Address to serve on.")
@click.option("--no-reload", is_flag=True, help="Do not rebuild when datalabs or the site change.")
@_with(store_options)
def serve(dev_addr, no_reload, catalog, mkdocs_config, jobs, config_path):
    """Build the store and serve it locally, rebuilding when a datalab changes."""
    from sciapps.site.serve import serve_store

    config = _config(config_path)
    serve_store(config, catalog or config.root / "datalabs", mkdocs_config or config.root / "mkdocs.yml", dev_addr, not no_reload)
    return errors.OK


@cli.command("build")
@click.argument("ids", nargs=-1, metavar="[ID]...")
@click.option("--changed", is_flag=True, help="Build the datalabs changed since --base (Git).")
@click.option("--base", "base_rev", default="HEAD", show_default=True, help="With --changed: the revision to compare with.")
@click.option("--push", is_flag=True, help="Push each image to the registry after its checks pass.")
@click.option("--no-cache", is_flag=True, help="Rebuild even an unchanged datalab, without Docker's layer cache.")
@config_option
def build_cmd(ids, changed, base_rev, push, no_cache, config_path):
    """Build datalab images (only what changed), check them, tag and optionally push them."""
    from sciapps.images.build import changed_datalabs
    from sciapps.images.stage import build_many, resolve

    config = _config(config_path)
    if changed:
        if ids:
            raise click.UsageError("give datalab ids or --changed, not both")
        ids = changed_datalabs(config.root, base_rev)
        click.echo(f"changed since {base_rev}: {', '.join(ids) if ids else 'no datalab'}")
    elif not ids:
        raise click.UsageError("name the datalabs to build, or use --changed")
    report = build_many(config, resolve(config, list(ids)), push, no_cache, click.echo)
    if report.failed:
        click.echo(f"{len(report.failed)} of {len(ids)} failed: {', '.join(report.failed)}", err=True)
        return errors.FINDINGS
    return errors.OK


@cli.command("test")
@click.argument("ids", nargs=-1, required=True, metavar="ID...")
@click.option("--timeout", type=click.FloatRange(min=1), default=600, show_default=True, help="Seconds each notebook may run.")
@config_option
def test_cmd(ids, timeout, config_path):
    """Start each datalab's image, check its service, run its test notebooks and verify script."""
    from sciapps.images.stage import resolve, test_many

    config = _config(config_path)
    report = test_many(config, resolve(config, list(ids)), timeout, click.echo)
    return errors.FINDINGS if report.failed else errors.OK


@cli.command("run")
@click.argument("datalab_id", metavar="ID")
@click.option("--data", "data_root", type=click.Path(file_okay=False, path_type=Path), default=Path("data"), show_default=True,
              help="Folder holding local copies of data assets, as DATA/<mission>/<collection>.")
@config_option
def run_cmd(datalab_id, data_root, config_path):
    """Start a datalab locally, with its data assets mounted read-only, and print its URL."""
    from sciapps.images.engine import Engine
    from sciapps.images.stage import ensure_image, resolve
    from sciapps.testing.runner import start, wait_ready

    config = _config(config_path)
    (lab,) = resolve(config, [datalab_id])
    image = ensure_image(config, lab, click.echo)
    mounts = []
    for asset in lab.get("data_assets") or []:
        host = (data_root / asset["mission"] / asset["collection"]).absolute()
        if not host.is_dir():
            host.mkdir(parents=True)
            click.echo(f"no local copy of {asset['collection']}: mounting the empty folder {host}")
        mounts.append((str(host), asset["mount"], asset.get("read_only", True)))
    engine = Engine()
    container, service = start(engine, lab, image, "run", mounts)
    try:
        check = wait_ready(engine, container, service)
        if not check.passed:
            raise errors.SciAppsError(f"{lab.id} did not start: {check.output.strip().splitlines()[0]}", "see the log above; `docker logs` is gone with the container")
        click.echo(f"{lab.get('name')} is running. Open:\n  {service.url}\nCtrl-C stops it and removes the container.")
        while True:
            container.reload()
            if container.status in ("exited", "dead"):
                click.echo(container.logs(tail=20).decode("utf-8", "replace"))
                raise errors.SciAppsError(f"{lab.id} stopped by itself", "the log above says why")
            time.sleep(1)
    except KeyboardInterrupt:
        click.echo("Stopping.")
        return errors.OK
    finally:
        engine.remove(container)


@cli.command("scan")
@click.argument("ids", nargs=-1, required=True, metavar="ID...")
@click.option("--policy", "policy_path", type=click.Path(dir_okay=False, path_type=Path), help="Scan policy (default: scan_policy in sciapps.yaml).")
@click.option("--osv-mirror", type=click.Path(file_okay=False, path_type=Path), help="Local OSV mirror (default: osv_mirror in sciapps.yaml).")
@config_option
def scan_cmd(ids, policy_path, osv_mirror, config_path):
    """Scan datalabs and their images: secrets, Dockerfile, code, image policy, SBOM, vulnerabilities."""
    from sciapps.images.stage import ensure_image, resolve
    from sciapps.scanning.policy import load_policy
    from sciapps.scanning.scan import make_target, scan

    config = _config(config_path)
    policy = load_policy(policy_path or config.path_of(config.scan_policy))
    mirror = osv_mirror or config.path_of(config.osv_mirror)
    failed = []
    for lab in resolve(config, list(ids)):
        image = ensure_image(config, lab, click.echo)
        report = scan(make_target(config, lab, image, policy, mirror), policy, log=click.echo)
        for judged in report.blocking:
            f = judged.finding
            where = f"{f.package} {f.version}" if f.package else f"{f.file or ''}{':' + str(f.line) if f.line else ''}"
            click.echo(f"{lab.id}: BLOCKS {f.severity} {f.rule} {f.title} [{where}] ({judged.why})")
        for outcome in report.failed_scanners:
            click.echo(f"{lab.id}: scanner {outcome.scanner} failed: {outcome.message.strip()}")
        click.echo(f"{lab.id}: scan {report.summary()} (details: {_shown(config.path_of(config.results_dir) / lab.id / 'scan.md')})")
        if not report.passed:
            failed.append(lab.id)
    return errors.FINDINGS if failed else errors.OK


@cli.command("osv-sync")
@click.option("--ecosystem", "ecosystems", multiple=True, type=click.Choice(["PyPI", "Debian"]), help="Default: PyPI and Debian.")
@click.option("--source", default="https://osv-vulnerabilities.storage.googleapis.com", show_default=True, help="Where OSV's exports are.")
@click.option("--osv-mirror", type=click.Path(file_okay=False, path_type=Path), help="The mirror folder (default: osv_mirror in sciapps.yaml).")
@config_option
def osv_sync_cmd(ecosystems, source, osv_mirror, config_path):
    """Fill the local OSV mirror from OSV's published exports (where the network allows)."""
    from sciapps.scanning.osv import ECOSYSTEMS, sync

    config = _config(config_path)
    sync(osv_mirror or config.path_of(config.osv_mirror), tuple(ecosystems) or ECOSYSTEMS, source, log=click.echo)
    return errors.OK


@cli.command("chart")
@click.argument("ids", nargs=-1, required=True, metavar="ID...")
@click.option("--push", is_flag=True, help="Push each chart to the OCI registry in sciapps.yaml.")
@config_option
def chart_cmd(ids, push, config_path):
    """Write, render, lint, validate and package each datalab's Helm chart (build/charts/)."""
    from sciapps.charts.chart import KUBE_VERSION as KUBE, build_chart, push_chart
    from sciapps.images.stage import errors_of, record, resolve

    config = _config(config_path)
    out = config.root / "build" / "charts"
    failed = []
    for lab in resolve(config, list(ids)):
        problems = errors_of(lab, config)
        if problems:  # nothing from an invalid datalab.yaml reaches a chart or a file name
            for finding in problems:
                click.echo(finding.format())
            record(config, lab, "chart", "failed", f"not charted: {len(problems)} validation error(s)",
                   {"findings": [f.as_dict() for f in problems]})
            failed.append(lab.id)
            continue
        report = build_chart(config, lab, out)
        if report.passed and push:
            report.pushed = push_chart(report.package, config.registry)
        for problem in report.problems:
            click.echo(f"{lab.id}: {problem}")
        if report.passed:
            summary = f"chart {report.package.name}: rendered {len(report.manifests)} templates, lint and Kubernetes {KUBE} schemas clean, restricted profile met"
        else:
            summary = f"chart failed: {len(report.problems)} problem(s)"
            failed.append(lab.id)
        record(config, lab, "chart", "passed" if report.passed else "failed", summary[:300],
               {"package": report.package.name if report.package else None, "problems": report.problems, "pushed": report.pushed})
        click.echo(f"{lab.id}: {summary}" + (f" (pushed {report.pushed})" if report.pushed else ""))
    return errors.FINDINGS if failed else errors.OK


@cli.command("launch")
@click.argument("datalab_id", metavar="ID")
@click.option("--namespace", default="datalabs", show_default=True, help="Kubernetes namespace (created if missing).")
@click.option("--release", help="Release name (default: the datalab id).")
@click.option("--kubeconfig", type=click.Path(dir_okay=False, path_type=Path),
              help="The cluster's kubeconfig (default: $KUBECONFIG, else ~/.kube/config).")
@config_option
def launch_cmd(datalab_id, namespace, release, kubeconfig, config_path):
    """Install a datalab into the Kubernetes cluster of the current kubeconfig."""
    from sciapps.charts.chart import build_chart
    from sciapps.charts.launch import launch
    from sciapps.images.stage import resolve

    config = _config(config_path)
    (lab,) = resolve(config, [datalab_id])
    report = build_chart(config, lab, config.root / "build" / "charts")
    if not report.passed:
        raise errors.SciAppsError(f"{lab.id}'s chart has problems: {report.problems[0]}", f"run `sciapps chart {lab.id}` to see them all")
    import helm_python as helm

    values = helm.Chart.load(report.package).values
    release = release or lab.id
    applied = launch(report.package, values, release, namespace, kubeconfig)
    click.echo(f"applied {', '.join(applied)} in namespace {namespace}.")
    port = "8888" if lab.get("type") == "jupyterlab" else "6080"
    name = release if lab.id in release else f"{release}-{lab.id}"
    click.echo(f"Reach it: kubectl --namespace {namespace} port-forward deployment/{name} 8080:{port}\n"
               f"then open http://127.0.0.1:8080/" + ("vnc.html?autoconnect=1" if port == "6080" else ""))
    return errors.OK


@cli.command("changed")
@click.option("--base", "base_rev", required=True, help="The revision to compare with.")
@config_option
def changed_cmd(base_rev, config_path):
    """Print the ids of the datalabs changed since --base, one per line (for CI jobs)."""
    from sciapps.images.build import changed_datalabs

    from sciapps.schema import is_datalab_id
    from sciapps.text import printable

    config = _config(config_path)
    for name in changed_datalabs(config.root, base_rev):
        if is_datalab_id(name):  # printed for a shell to split: nothing but an id, never an option
            click.echo(name)
        else:
            click.echo(f"left out: the folder {printable(repr(name))} is not a datalab id (`sciapps validate` reports it)", err=True)
    return errors.OK


@cli.command("review")
@click.option("--base", "base_rev", required=True, help="The merge request's base revision (the target branch's).")
@click.option("--author", help="GitLab username of the merge request's author (local runs).")
@click.option("--author-from-gitlab", is_flag=True,
              help="Ask GitLab's API who opened the merge request (CI: $CI_API_V4_URL, $CI_PROJECT_ID, "
                   "$CI_MERGE_REQUEST_IID, token in $SCIAPPS_REVIEW_TOKEN); fail when it does not answer.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write the report here too.")
@config_option
def review_cmd(base_rev, author, author_from_gitlab, output, config_path):
    """Write the moderation report of a merge request, judged by the target branch's roles
    and settings; exit 1 when a rule is broken."""
    from sciapps.config import Config, find_config
    from sciapps.review.author import author_from_environment
    from sciapps.review.moderation import report, trusted_settings

    if author_from_gitlab:
        author = author_from_environment()
    # Only where the catalog is: the merge request's own sciapps.yaml is not read, let alone trusted.
    trusted, roles = trusted_settings(Config(path=config_path or find_config(Path.cwd())), base_rev)
    text, ok = report(trusted, base_rev, author, roles)
    if output:
        _write_atomically(output, text)
    click.echo(text)
    return errors.OK if ok else errors.FINDINGS


@cli.command("codeowners")
@click.option("--check", is_flag=True, help="Change nothing; exit 1 if CODEOWNERS is stale.")
@config_option
def codeowners_cmd(check, config_path):
    """Write CODEOWNERS: each datalab's maintainers and the moderators approve its changes."""
    from sciapps.review.moderation import codeowners, load_roles

    config = _config(config_path)
    text = codeowners(config, load_roles(config))
    target = config.root / "CODEOWNERS"
    current = target.read_text(encoding="utf-8") if target.is_file() else ""
    if check:
        if current != text:
            click.echo("CODEOWNERS is stale: run `sciapps codeowners`")
            return errors.FINDINGS
        return errors.OK
    if current != text:
        _write_atomically(target, text)
        click.echo(f"wrote {_shown(target)}")
    return errors.OK


@cli.command("ci")
@click.option("--base", "base_rev", required=True, help="Revision to compare with (a merge request's base).")
@click.option("--author", envvar="GITLAB_USER_LOGIN", help="GitLab username of the author.")
@click.option("--publish", is_flag=True, help="Also push images and charts and build the store (the default branch's job).")
@click.option("--osv-mirror", type=click.Path(file_okay=False, path_type=Path), help="Local OSV mirror.")
@config_option
@click.pass_context
def ci_cmd(ctx, base_rev, author, publish, osv_mirror, config_path):
    """Run the pipeline's stages locally: validate, build, scan, test, chart, review (, publish)."""
    from sciapps.images.build import changed_datalabs

    config = _config(config_path)
    common = ["--config", str(config.path)] if config.path else []
    ids = changed_datalabs(config.root, base_rev)
    click.echo(f"== changed since {base_rev}: {', '.join(ids) or 'no datalab'}")
    steps = [("validate", ["validate", *common])]
    if ids:
        steps += [
            ("build", ["build", *ids, *(["--push"] if publish else []), *common]),
            ("scan", ["scan", *ids, *(["--osv-mirror", str(osv_mirror)] if osv_mirror else []), *common]),
            ("test", ["test", *ids, *common]),
            ("chart", ["chart", *ids, *(["--push"] if publish else []), *common]),
        ]
    steps.append(("review", ["review", "--base", base_rev, "-o", str(config.root / "build" / "review.md"),
                             *(["--author", author] if author else []), *common]))
    if publish:
        steps.append(("publish", ["site", "build", *common]))
    failed = []
    for name, argv in steps:
        click.echo(f"== {name}: sciapps {' '.join(argv)}")
        try:
            code = cli.main(argv, standalone_mode=False)
        except SystemExit as exc:
            code = exc.code
        if code not in (0, None):
            failed.append(name)
            if name in ("validate", "build"):
                break  # later stages need what these make
    click.echo(f"== {'failed: ' + ', '.join(failed) if failed else 'all stages passed'}")
    return errors.FINDINGS if failed else errors.OK


@cli.command("submit")
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--gitlab-url", envvar="GITLAB_URL", help="GitLab instance [default: gitlab.url in sciapps.yaml].")
@click.option("--project", envvar="GITLAB_PROJECT", help="The catalog's project, e.g. datalabs/sciapps [default: gitlab.project in sciapps.yaml].")
@click.option("--target-branch", help="Branch to merge into [default: gitlab.target_branch in sciapps.yaml, else main].")
@click.option("--token", envvar="GITLAB_TOKEN", required=True, help="Personal access token with the api scope (GITLAB_TOKEN).")
@config_option
def submit_cmd(path, gitlab_url, project, target_branch, token, config_path):
    """Open a merge request with a datalab folder on the catalog's GitLab project."""
    from sciapps.catalog.loader import load_datalab
    from sciapps.images.stage import errors_of
    from sciapps.review.submit import submit

    config = _config(config_path)
    settings = config.gitlab
    gitlab_url = gitlab_url or (settings.url if settings else None)
    project = project or (settings.project if settings else None)
    target_branch = target_branch or (settings.target_branch if settings else "main")
    if not gitlab_url or not project:
        raise click.UsageError("no GitLab project: pass --gitlab-url and --project, or set gitlab.url and gitlab.project in sciapps.yaml")
    lab = load_datalab(path.absolute(), config.limits)
    problems = errors_of(lab, config)
    if problems:
        for finding in problems:
            click.echo(finding.format())
        raise errors.SciAppsError(f"{lab.id} has validation errors; nothing was submitted", f"fix them (sciapps validate {path})")
    result = submit(lab, gitlab_url, token, project, target_branch)
    how = "already open" if result.reused_merge_request else "opened"
    click.echo(f"merge request {how}: {result.merge_request_url} (branch {result.branch})")
    return errors.OK


@cli.group("base-images")
def base_images():
    """The approved base images (jl_base, x_base, datalabs_ubuntu_base)."""


@base_images.command("build")
@click.argument("names", nargs=-1)
@click.option("--rebuild", is_flag=True, help="Build even when the inputs did not change.")
@click.option("--push", is_flag=True, help="Push them to the registry in sciapps.yaml.")
@config_option
def base_images_build(names, rebuild, push, config_path):
    """Bootstrap Debian, build the base images and record them in build/base-images.json."""
    from sciapps.images import bases
    from sciapps.images.engine import Engine

    config = _config(config_path)
    engine = Engine()
    built = bases.build_all(engine, config, tuple(names) or bases.ORDER, log=click.echo, rebuild=rebuild)
    if push:
        built = bases.push_all(engine, config, log=click.echo)
    for base in built.values():
        click.echo(f"{base.name:22} {base.image_id[:19]}  {base.ref}" + (f"@{base.digest}" if base.digest else ""))
    return errors.OK


def main() -> None:
    cli()
