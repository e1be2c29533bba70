"""The `sciapps` command: click parsing only. Each command parses its options, calls the
one function that does the work and maps the outcome to an exit code:
0 ok, 1 findings, 2 usage or setup error, 3 internal error (traceback in a log file).
"""

from __future__ import annotations

import errno
import sys
from pathlib import Path

import click

from sciapps import __version__, errors
from sciapps.config import KUBERNETES_NAMESPACE
from sciapps.datalab_types import TYPES
from sciapps.text import shown_path


ENVIRONMENT_ERRNOS = {  # errors of the machine, not bugs: exit 2 with the remedy
    errno.ENOSPC: "free some disk space, then run the command again",
    errno.EDQUOT: "free some of your disk quota, then run the command again",
    errno.EROFS: "the file system is read-only: choose a writable place (--out, --output, --config)",
    errno.EACCES: "you may not write or read there: choose another place or fix its permissions",
    errno.EPERM: "you may not write or read there: choose another place or fix its permissions",
}


# the top-level modules of the `full` extra (pyproject.toml) that the light install does not bring
# (packaging and requests come with mkdocs): missing, they mean the light install
FULL_INSTALL_MODULES = frozenset(
    {
        "nbdime",
        "docker",
        "detect_secrets",
        "bandit",
        "cyclonedx",
        "debian",
        "helm_python",
        "kubernetes_validate",
        "kubernetes",
        "gitlab",
        "oras",
    }
)

HELP_SECTIONS = (
    ("Start here: make a datalab and see it in the store", ("new", "validate", "serve", "preview", "submit")),
    ("Build, test and run it on this machine", ("build", "test", "run", "scan", "chart", "ci")),
    ("Launch and check releases", ("launch", "verify", "releases")),
    ("Moderate a merge request", ("review", "changed", "plan", "codeowners", "rules")),
    (
        "Operate the catalog (CI jobs and schedules)",
        ("admit", "push", "publish", "site", "base-images", "keys", "osv-sync", "audit", "health", "feedback-sync", "schema"),
    ),
)


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
        except ModuleNotFoundError as exc:
            if (exc.name or "").split(".")[0] not in FULL_INSTALL_MODULES:
                code = self._crash(exc)
            else:  # the light install serves and validates; this command needs the full one
                click.echo(
                    f"error: this command needs SciApps' full install ({exc.name} is not installed)\n"
                    "  hint: pip install 'sciapps[full]' (from a clone: pip install -e '.[full]')",
                    err=True,
                )
                code = errors.USAGE
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

    def format_commands(self, ctx, formatter):
        """The commands by what one does with them, first what a newcomer starts with; every
        command appears once (a test checks it), in the last section if none names it."""
        shown = {name for _, names in HELP_SECTIONS for name in names}
        sections = [*HELP_SECTIONS, ("Other", tuple(sorted(set(self.list_commands(ctx)) - shown)))]
        for title, names in sections:  # whole first sentences, wrapped, never cut off
            rows = [(name, self.commands[name].get_short_help_str(limit=300)) for name in names if name in self.commands]
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)

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
    """SciApps: the science application store for ESA Datalabs.

    New here? `sciapps serve` shows the store of this catalog; `sciapps new ID --from
    NOTEBOOK` makes a datalab, `sciapps validate` checks it. `sciapps COMMAND --help` says more.
    """


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
    from sciapps.reporting import validate_and_report

    summary = validate_and_report(_config(config_path), paths, fmt, output, verbose, jobs, sys.stdout, sys.stderr)
    return errors.FINDINGS if summary.errors > 0 or (strict and summary.warnings > 0) else errors.OK


@cli.command()
@click.argument("datalab_id", metavar="ID")
@click.option("--type", "kind", type=click.Choice(list(TYPES)), required=True, help="What the datalab opens.")
@click.option("--advanced", is_flag=True, help="Bring your own Dockerfile (FROM an approved base image).")
@click.option(
    "--from", "from_notebook", type=click.Path(dir_okay=False, path_type=Path, exists=True), help="Start from this notebook."
)
@click.option(
    "--app", default="xterm", show_default=True, help="For --type vnc: the desktop application to start (a Debian package)."
)
@click.option("--maintainer", help="'Full Name <email>' (default: from git config).")
@click.option("--username", help="Your GitLab username (default: the e-mail's local part).")
@click.option(
    "--catalog", type=click.Path(file_okay=False, path_type=Path), help="The datalabs/ folder (default: the repository's)."
)
@config_option
def new(datalab_id, kind, advanced, from_notebook, app, maintainer, username, catalog, config_path):
    """Create a datalab that validates at once. All you need to bring is a notebook."""
    from sciapps.catalog.scaffold import new_datalab

    target = new_datalab(_config(config_path), datalab_id, kind, advanced, from_notebook, app, maintainer, username, catalog)
    shown = shown_path(target)
    click.echo(f"Created {shown}/. Next:\n  edit {shown}/datalab.yaml\n  sciapps validate {shown}")
    return errors.OK


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def rules(fmt):
    """List the validation rules."""
    from sciapps.reference import rules_listing

    click.echo(rules_listing(fmt))
    return errors.OK


@cli.group()
def schema():
    """The datalab schema and the files generated from it."""


@schema.command()
@click.option("--check", is_flag=True, help="Change nothing; exit 1 if a generated file is stale.")
def generate(check):
    """Write every generated file from its one source: the datalab schema and its reference,
    the rules page and rules.json, the stage-result schema, the chart's values schema and type map."""
    from sciapps import reference

    files = reference.generate(check)
    for rel in files:
        click.echo(f"{rel} is stale: run `sciapps schema generate`" if check else f"wrote {rel}")
    return errors.FINDINGS if check and files else errors.OK


@cli.group()
def site():
    """The store: a static site generated from the catalog."""


def _store_build(out, catalog, mkdocs_config, jobs, config_path):
    from sciapps.catalog.validate import default_jobs
    from sciapps.site.build import build_store

    config = _config(config_path)
    report = build_store(
        config,
        [catalog or config.catalog],
        out or config.root / "public",
        mkdocs_config or config.root / "mkdocs.yml",
        jobs or default_jobs(),
    )
    warnings, line = report.messages()
    for warning in warnings:
        click.echo(warning, err=True)
    click.echo(line)
    return report


store_options = [
    click.option(
        "--catalog", type=click.Path(exists=True, file_okay=False, path_type=Path), help="Catalog folder (default: datalabs/)."
    ),
    click.option(
        "--mkdocs-config",
        type=click.Path(dir_okay=False, path_type=Path),
        help="mkdocs.yml of the store (default: the repository's).",
    ),
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
@click.option("--drafts", is_flag=True, help="Show drafts too, every page marked as a preview.")
@_with(store_options)
def serve(dev_addr, no_reload, drafts, catalog, mkdocs_config, jobs, config_path):
    """Build the store and serve it locally, rebuilding when a datalab changes."""
    from sciapps.site.serve import serve_store

    config = _config(config_path)
    serve_store(config, catalog or config.catalog, mkdocs_config or config.root / "mkdocs.yml", dev_addr, not no_reload, drafts)
    return errors.OK


@cli.command()
@click.option("--base", default="HEAD", show_default=True, help="What the preview compares with (the merge base).")
@click.option("--merge-request", envvar="CI_MERGE_REQUEST_IID", help="The merge request previewed (its number).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("public-preview"), show_default=True)
@click.option(
    "--mkdocs-config",
    type=click.Path(dir_okay=False, path_type=Path),
    help="mkdocs.yml of the store (default: the repository's).",
)
@click.option("-j", "--jobs", type=click.IntRange(min=1), help="Worker processes for validation (default: one per CPU).")
@config_option
def preview(base, merge_request, out, mkdocs_config, jobs, config_path):
    """Build a preview store: what changed since --base as it will look once published, marked unreviewed."""
    from sciapps.catalog.validate import default_jobs
    from sciapps.pipeline.store import build_preview

    config = _config(config_path)
    report = build_preview(
        config, base, out, mkdocs_config or config.root / "mkdocs.yml", merge_request or "", jobs or default_jobs(), click.echo
    )
    warnings, line = report.messages()
    for warning in warnings:
        click.echo(warning, err=True)
    click.echo(line.replace("Built the store", "Built the preview store"))
    return errors.FINDINGS if report.skipped else errors.OK


def _run_stage(name: str, ids, config_path, changed_since: str | None = None, **options) -> int:
    from sciapps.stages import Options, run_one

    report = run_one(_config(config_path), name, ids, Options(**options), click.echo, changed_since)
    return errors.FINDINGS if report.failed else errors.OK


@cli.command("build")
@click.argument("ids", nargs=-1, metavar="[ID]...")
@click.option("--changed", is_flag=True, help="Build the datalabs changed since --base (Git).")
@click.option("--base", "base_rev", default="HEAD", show_default=True, help="With --changed: the revision to compare with.")
@click.option("--push", is_flag=True, help="Push each image to the registry after its checks pass.")
@click.option("--no-cache", is_flag=True, help="Rebuild even an unchanged datalab, without Docker's layer cache.")
@click.option(
    "--stage-to",
    type=click.Choice(["staging", "review"]),
    help="Push each image to <registry>/staging/<id> (protected branch) or <registry>/review/<id> (merge request) "
    "and record its digest, for the pipeline's later jobs on any runner.",
)
@config_option
def build_cmd(ids, changed, base_rev, push, no_cache, stage_to, config_path):
    """Build datalab images (only what changed), check them, tag and optionally push them."""
    if changed and ids:
        raise click.UsageError("give datalab ids or --changed, not both")
    if not changed and not ids:
        raise click.UsageError("name the datalabs to build, or use --changed")
    return _run_stage(
        "build", ids, config_path, base_rev if changed else None, push=push, no_cache=no_cache, stage_to=stage_to or ""
    )


@cli.command("test")
@click.argument("ids", nargs=-1, required=True, metavar="ID...")
@click.option("--timeout", type=click.FloatRange(min=1), default=600, show_default=True, help="Seconds each notebook may run.")
@config_option
def test_cmd(ids, timeout, config_path):
    """Start each datalab's image, check its service, run its test notebooks and verify script."""
    return _run_stage("test", ids, config_path, notebook_timeout=timeout)


def launch_options(command):
    """--param, --cpu and --memory-gb: what one launch asks of a datalab."""
    command = click.option("--memory-gb", type=float, help="Memory in GiB, within what the datalab allows (default: its own).")(
        command
    )
    command = click.option("--cpu", type=float, help="CPU cores, within what the datalab allows (default: its own).")(command)
    return click.option(
        "--param",
        "params",
        multiple=True,
        metavar="NAME=VALUE",
        help="A launch parameter's value (repeatable); checked against the datalab's declared types.",
    )(command)


@cli.command("run")
@click.argument("datalab_id", metavar="ID")
@click.option(
    "--data",
    "data_root",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("data"),
    show_default=True,
    help="Folder holding local copies of data assets, as DATA/<mission>/<collection>.",
)
@launch_options
@config_option
def run_cmd(datalab_id, data_root, params, cpu, memory_gb, config_path):
    """Start a datalab locally, with its data assets mounted read-only, and print its URL."""
    from sciapps.catalog.launching import parse_pairs
    from sciapps.local import run_locally

    pairs = parse_pairs(params)
    run_locally(
        _config(config_path), datalab_id, data_root, click.echo, params=pairs, resources={"cpu": cpu, "memory_gb": memory_gb}
    )
    return errors.OK


@cli.command("scan")
@click.argument("ids", nargs=-1, required=True, metavar="ID...")
@click.option(
    "--policy",
    "policy_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Scan policy (default: scan_policy in sciapps.yaml).",
)
@click.option(
    "--osv-mirror",
    envvar="OSV_MIRROR",
    type=click.Path(file_okay=False, path_type=Path),
    help="Local OSV mirror (default: $OSV_MIRROR, else osv_mirror in sciapps.yaml).",
)
@config_option
def scan_cmd(ids, policy_path, osv_mirror, config_path):
    """Scan datalabs and their images: secrets, Dockerfile, code, image policy, SBOM, vulnerabilities."""
    return _run_stage("scan", ids, config_path, policy=policy_path, osv_mirror=osv_mirror)


@cli.command("osv-sync")
@click.option("--ecosystem", "ecosystems", multiple=True, type=click.Choice(["PyPI", "Debian"]), help="Default: PyPI and Debian.")
@click.option(
    "--source", default="https://osv-vulnerabilities.storage.googleapis.com", show_default=True, help="Where OSV's exports are."
)
@click.option(
    "--osv-mirror",
    type=click.Path(file_okay=False, path_type=Path),
    help="The mirror folder (default: osv_mirror in sciapps.yaml).",
)
@config_option
def osv_sync_cmd(ecosystems, source, osv_mirror, config_path):
    """Fill the local OSV mirror from OSV's published exports (where the network allows)."""
    from sciapps.scanning.osv import ECOSYSTEMS, sync

    config = _config(config_path)
    sync(osv_mirror or config.path_of(config.osv_mirror), tuple(ecosystems) or ECOSYSTEMS, source, log=click.echo)
    return errors.OK


@cli.command("feedback-sync")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the export (default: feedback_export in sciapps.yaml).",
)
@click.option(
    "--token",
    envvar="SCIAPPS_FEEDBACK_TOKEN",
    help="A GitLab token with read_api (SCIAPPS_FEEDBACK_TOKEN); none for a public project.",
)
@config_option
def feedback_sync_cmd(out, token, config_path):
    """Read the feedback issues of the catalog's GitLab project into the store's feedback export."""
    from sciapps.feedback import sync

    sync(_config(config_path), token, out, click.echo)
    return errors.OK


@cli.command("chart")
@click.argument("ids", nargs=-1, required=True, metavar="ID...")
@click.option("--push", is_flag=True, help="Push each chart to the OCI registry in sciapps.yaml.")
@config_option
def chart_cmd(ids, push, config_path):
    """Write, render, lint, validate and package each datalab's Helm chart (build/charts/)."""
    return _run_stage("chart", ids, config_path, push=push)


@cli.command("launch")
@click.argument("spec", metavar="ID[@VERSION|@sha256:DIGEST]")
@click.option("--namespace", default=KUBERNETES_NAMESPACE, show_default=True, help="Kubernetes namespace (created if missing).")
@click.option("--release", help="Release name (default: the datalab id).")
@click.option(
    "--kubeconfig",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The cluster's kubeconfig (default: $KUBECONFIG, else ~/.kube/config).",
)
@click.option(
    "--allow-unverified",
    is_flag=True,
    help="Development only: launch what is here when no record verifies (a warning is printed).",
)
@launch_options
@config_option
def launch_cmd(spec, namespace, release, kubeconfig, allow_unverified, params, cpu, memory_gb, config_path):
    """Install a published datalab version, by its image digest, once its release record verifies."""
    from sciapps.catalog.launching import parse_pairs
    from sciapps.local import launch

    pairs = parse_pairs(params)
    launch(
        _config(config_path),
        spec,
        namespace,
        release,
        kubeconfig,
        allow_unverified,
        click.echo,
        params=pairs,
        resources={"cpu": cpu, "memory_gb": memory_gb},
    )
    return errors.OK


@cli.command("push")
@click.argument("ids", nargs=-1, required=True, metavar="ID...")
@click.option("--chart-only", is_flag=True, help="Only the chart (a chart-only job: the image is the released one).")
@click.option(
    "--review",
    is_flag=True,
    help="A merge request's review image: to <registry>/review/<id>, with GitLab's job credentials, never signed.",
)
@click.option("--merge-request", envvar="CI_MERGE_REQUEST_IID", help="The merge request's number (with --review).")
@click.option("--commit", "commit_sha", envvar="CI_COMMIT_SHA", help="The merge request's commit (with --review).")
@config_option
def push_cmd(ids, chart_only, review, merge_request, commit_sha, config_path):
    """Push the image and chart this pipeline checked of each datalab, and record what was pushed (nothing is rebuilt)."""
    from sciapps.pipeline import push_ids, push_review

    if review:
        return push_review(_config(config_path), ids, merge_request or "", commit_sha or "", click.echo)
    return push_ids(_config(config_path), ids, click.echo, chart_only=chart_only)


@cli.command("publish")
@click.argument("ids", nargs=-1, required=True, metavar="ID...")
@click.option(
    "--push",
    is_flag=True,
    help="First push the image and chart of each datalab whose every check passed in this pipeline "
    "(the others are not published, and named).",
)
@click.option(
    "--notify",
    is_flag=True,
    help="Open (or update) a GitLab issue for the maintainers of each datalab not published; close it once one is.",
)
@click.option(
    "--token", envvar="SCIAPPS_ISSUES_TOKEN", help="With --notify: a GitLab token with the api scope (SCIAPPS_ISSUES_TOKEN)."
)
@config_option
def publish_cmd(ids, push, notify, token, config_path):
    """Sign and attach the release record of each datalab whose every check passed in this pipeline (the default branch's job)."""
    from sciapps.pipeline import publish_checked

    return publish_checked(_config(config_path), ids, click.echo, push=push, notify=notify, token=token)


@cli.command("verify")
@click.argument("spec", metavar="ID[@VERSION|@sha256:DIGEST]")
@config_option
def verify_cmd(spec, config_path):
    """Check a release: its record's signature, its image digest in the registry, its scan.
    Exit 0 verified, 1 not, 2 cannot check."""
    from sciapps.releases.commands import verify

    return verify(_config(config_path), spec, click.echo)


@cli.group()
def releases():
    """The release records the store, verify and launch read."""


@releases.command("sync")
@click.option(
    "--full", is_flag=True, help="Check every datalab's records and tags (schedules), not only what changed since the last sync."
)
@click.option("-j", "--jobs", type=click.IntRange(1, 32), default=8, show_default=True, help="Datalabs synced at once.")
@click.option(
    "--plan",
    "plan_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="This pipeline's plan (build/plan.json): every datalab it built or charted is synced too.",
)
@config_option
def releases_sync(full, jobs, plan_file, config_path):
    """Copy the datalabs' release records from the registry into releases_dir, and check their tags (the pages job)."""
    from sciapps.pipeline.store import published_by, sync_store

    return sync_store(_config(config_path), click.echo, full=full, jobs=jobs, also=published_by(plan_file))


@cli.group()
def keys():
    """The catalog's signing key pair."""


@keys.command("generate")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("keys"),
    show_default=True,
    help="Folder for release.pub and release.key.",
)
def keys_generate(out):
    """Write a new key pair: commit release.pub, put release.key in the protected variable SCIAPPS_SIGNING_KEY."""
    from sciapps.releases.commands import generate_keys

    return generate_keys(out, click.echo)


@cli.command("plan")
@click.option("--base", "base_rev", help="The revision to compare with (a merge request's base, or the previous commit).")
@click.option(
    "--trusted",
    help="With --then review: the protected target branch's head, whose roles judge the merge request (never the merge base).",
)
@click.option(
    "--target-branch",
    envvar="CI_MERGE_REQUEST_TARGET_BRANCH_NAME",
    default="",
    help="With --then review: the branch the merge request targets (pinned for the child pipeline).",
)
@click.option("--all", "everything", is_flag=True, help="Plan every datalab (a scheduled full run).")
@click.option(
    "--outdated",
    is_flag=True,
    help="Plan every published datalab whose current release was built on an approved base "
    "that has been rebuilt since (after `sciapps base-images build --security-updates` and `sciapps releases sync`).",
)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write the plan (JSON) here too.")
@click.option(
    "--child-pipeline",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the GitLab child pipeline that runs the plan here.",
)
@click.option(
    "--then",
    type=click.Choice(["review", "publish"]),
    help="With --child-pipeline: end it with the merge request's review, or with each chain's publication. "
    "`review` plans a merge request: what its author may not have built waits for a moderator.",
)
@click.option("--author", help="With --then review: who opened the merge request (GitLab username).")
@click.option(
    "--author-from-gitlab",
    is_flag=True,
    help="With --then review: ask GitLab's API who opened the merge request (SCIAPPS_REVIEW_TOKEN); "
    "when it does not answer, nothing that needs a role is built.",
)
@click.option(
    "--ids",
    "ids_of",
    type=click.Choice(["build", "chart"]),
    help="Print only the ids of the datalabs planned for this work, one per line (for CI jobs); the rest goes to standard error.",
)
@click.option(
    "--merge-request",
    envvar="CI_MERGE_REQUEST_IID",
    help="With --then review: the merge request's number, which its review images and preview carry.",
)
@config_option
def plan_cmd(
    base_rev,
    trusted,
    target_branch,
    everything,
    outdated,
    output,
    child_pipeline,
    then,
    author,
    author_from_gitlab,
    ids_of,
    merge_request,
    config_path,
):
    """What a change affects, and why: the datalabs to build, and those whose chart only is rendered again."""
    from sciapps.pipeline import write_plan

    if not base_rev and not everything and not outdated:
        raise click.UsageError("give --base REV, --outdated or --all")
    if then == "review" and not trusted:
        raise click.UsageError("a merge request's plan (--then review) needs --trusted: the protected target branch's head")
    say = (lambda line: click.echo(line, err=True)) if ids_of else click.echo
    asked = None
    if author_from_gitlab:
        from sciapps.author import author_or_none

        asked = lambda: author_or_none(say)  # noqa: E731
    elif author:
        asked = lambda: author  # noqa: E731
    result = write_plan(
        _config(config_path),
        base_rev,
        everything,
        output,
        child_pipeline,
        say,
        then,
        outdated,
        asked,
        merge_request or "",
        trusted,
        target_branch or "",
    )
    for datalab_id in result.ids(ids_of) if ids_of else ():
        click.echo(datalab_id)
    return errors.OK


@cli.command("admit")
@click.option("--trusted", required=True, help="The protected target branch's head: SciApps, rules and bases come from it.")
@click.option("--base", "base_rev", help="The merge base: what the merge request's own commits change is read from it.")
@click.option(
    "--target-branch", envvar="CI_MERGE_REQUEST_TARGET_BRANCH_NAME", default="", help="The branch the merge request targets."
)
@click.option("--default-branch", envvar="CI_DEFAULT_BRANCH", default="", help="The project's protected default branch.")
def admit_cmd(trusted, base_rev, target_branch, default_branch):
    """Make this checkout the protected target branch's head with only the merge request's
    datalabs on it (every job's setup in a merge request's pipeline); exit 2 for a merge
    request into any other branch."""
    from sciapps.trust import admit_here

    return admit_here(Path.cwd(), trusted, base_rev, click.echo, target_branch, default_branch)


@cli.command("audit")
@click.option(
    "--osv-mirror", type=click.Path(file_okay=False, path_type=Path), help="The OSV mirror (default: osv_mirror in sciapps.yaml)."
)
@click.option("--notify", is_flag=True, help="Open, update or close each affected datalab's GitLab issue for its maintainers.")
@click.option(
    "--token", envvar="SCIAPPS_ISSUES_TOKEN", help="With --notify: a GitLab token with the api scope (SCIAPPS_ISSUES_TOKEN)."
)
@config_option
def audit_cmd(osv_mirror, notify, token, config_path):
    """Check every published release's SBOM against the OSV mirror, without rebuilding; exit 1 when a new advisory blocks one."""
    from sciapps.revisits import audit

    return _revisit(audit, config_path, notify, token, osv_mirror=osv_mirror)


@cli.command("health")
@click.option("--timeout", type=click.FloatRange(min=1), default=600, show_default=True, help="Seconds each notebook may run.")
@click.option("--notify", is_flag=True, help="Open, update or close the GitLab issue of each datalab that stopped working.")
@click.option(
    "--token", envvar="SCIAPPS_ISSUES_TOKEN", help="With --notify: a GitLab token with the api scope (SCIAPPS_ISSUES_TOKEN)."
)
@config_option
def health_cmd(timeout, notify, token, config_path):
    """Test every published datalab again, on its current release's published image; exit 1 when one stopped working."""
    from sciapps.revisits import health

    return _revisit(health, config_path, notify, token, notebook_timeout=timeout)


def _revisit(module, config_path, notify: bool, token: str | None, **options) -> int:
    """A scheduled revisit (`module.run`), then its maintainers' issues; 1 when it found something."""
    config = _config(config_path)
    report = module.run(config, click.echo, **options)
    if notify:
        module.notify(config, report, token, click.echo)
    return errors.FINDINGS if report.found() else errors.OK


@cli.command("changed")
@click.option("--base", "base_rev", required=True, help="The revision to compare with.")
@config_option
def changed_cmd(base_rev, config_path):
    """Print the ids of the datalabs changed since --base, one per line (for CI jobs)."""
    from sciapps.catalog.changes import changed_ids

    ids, warnings = changed_ids(_config(config_path), base_rev)
    for warning in warnings:  # printed for a shell to split: nothing but ids on standard output
        click.echo(warning, err=True)
    for datalab_id in ids:
        click.echo(datalab_id)
    return errors.OK


@cli.command("review")
@click.option("--base", "base_rev", required=True, help="The merge base: what the merge request changes is read from it.")
@click.option(
    "--trusted",
    help="The protected target branch's head, whose roles and settings judge the merge request "
    "(a pipeline always gives it; a local run without it judges by --base).",
)
@click.option("--author", help="GitLab username of the merge request's author (local runs).")
@click.option(
    "--author-from-gitlab",
    is_flag=True,
    help="Ask GitLab's API who opened the merge request (CI: $CI_API_V4_URL, $CI_PROJECT_ID, "
    "$CI_MERGE_REQUEST_IID, token in $SCIAPPS_REVIEW_TOKEN); fail when it does not answer.",
)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write the report here too.")
@config_option
def review_cmd(base_rev, trusted, author, author_from_gitlab, output, config_path):
    """Write the moderation report of a merge request, judged by the target branch's roles
    and settings; exit 1 when a rule is broken."""
    from sciapps.review.moderation import review

    # Only where the catalog is: the merge request's own sciapps.yaml is not read, let alone trusted.
    text, ok = review(config_path, base_rev, author, author_from_gitlab, output, trusted)
    click.echo(text)
    return errors.OK if ok else errors.FINDINGS


@cli.command("codeowners")
@click.option("--check", is_flag=True, help="Change nothing; exit 1 if CODEOWNERS is stale.")
@config_option
def codeowners_cmd(check, config_path):
    """Write CODEOWNERS: each datalab's maintainers and the moderators approve its changes."""
    from sciapps.review.moderation import write_codeowners

    target, stale = write_codeowners(_config(config_path), check)
    if stale:
        click.echo("CODEOWNERS is stale: run `sciapps codeowners`" if check else f"wrote {shown_path(target)}")
    return errors.FINDINGS if check and stale else errors.OK


@cli.command("ci")
@click.option("--base", "base_rev", required=True, help="Revision to compare with (a merge request's base).")
@click.option("--author", envvar="GITLAB_USER_LOGIN", help="GitLab username of the author.")
@click.option(
    "--publish",
    is_flag=True,
    help="Also push images and charts, sign their release records and build the store (the default branch's jobs).",
)
@click.option("--osv-mirror", type=click.Path(file_okay=False, path_type=Path), help="Local OSV mirror.")
@config_option
def ci_cmd(base_rev, author, publish, osv_mirror, config_path):
    """Run the pipeline's stages locally: validate, build, scan, test, chart, review (, publish)."""
    from sciapps.pipeline import run_ci

    failed = run_ci(_config(config_path), base_rev, author, publish, osv_mirror, click.echo)
    return errors.FINDINGS if failed else errors.OK


@cli.command("submit")
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--gitlab-url", envvar="GITLAB_URL", help="GitLab instance [default: gitlab.url in sciapps.yaml].")
@click.option(
    "--project",
    envvar="GITLAB_PROJECT",
    help="The catalog's project, e.g. datalabs/sciapps [default: gitlab.project in sciapps.yaml].",
)
@click.option("--target-branch", help="Branch to merge into [default: gitlab.target_branch in sciapps.yaml, else main].")
@click.option("--token", envvar="GITLAB_TOKEN", required=True, help="Personal access token with the api scope (GITLAB_TOKEN).")
@config_option
def submit_cmd(path, gitlab_url, project, target_branch, token, config_path):
    """Open a merge request with a datalab folder on the catalog's GitLab project."""
    from sciapps.review.submit import submit_folder

    result = submit_folder(_config(config_path), path, gitlab_url, project, target_branch, token, click.echo)
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
@click.option(
    "--security-updates",
    is_flag=True,
    help="First apply Debian's current security and stable updates to the root "
    "filesystem; the bases are rebuilt on it when any package changed (the scheduled refresh).",
)
@config_option
def base_images_build(names, rebuild, push, security_updates, config_path):
    """Bootstrap Debian, build the base images and record them in build/base-images.json."""
    from sciapps.images.bases import build_and_push

    build_and_push(_config(config_path), tuple(names), rebuild, push, click.echo, security=security_updates)
    return errors.OK


@base_images.command("pull")
@click.option(
    "--pinned",
    default="",
    help="The lock a plan pinned for its child pipeline ($SCIAPPS_BASES), written as build/base-images.json first.",
)
@config_option
def base_images_pull(pinned, config_path):
    """Pull the approved bases build/base-images.json records, by digest, onto this engine (never built here)."""
    from sciapps.images.bases import pull

    pull(_config(config_path), click.echo, pinned)
    return errors.OK


def main() -> None:
    cli()
