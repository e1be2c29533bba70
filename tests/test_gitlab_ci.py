"""The pipeline itself: checked against GitLab's CI schema, and run end to end with
gitlab-ci-local on a throwaway repository, once as a merge request and twice on the
default branch, with the child pipeline the plan writes (gitlab-ci-local 4.72 runs it; it
ignores `strategy: depend`, so the tests read the child jobs' results themselves). Skipped
without gitlab-ci-local or Docker on a laptop; CI installs both."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import nbformat
import pytest
import yaml

from sciapps.pipeline.gitlab import shard
from tests.catalogs import write_settings
from tests.conftest import REPO, _needs, version_of
from tests.gitrepo import git as _git

MIRROR = REPO / "tests" / "scanning" / "osv"


def _next_patch(datalab: str) -> str:
    """The example's version with its patch raised: the version a merged change gives it."""
    major, minor, patch = version_of(datalab).split(".")
    return f"{major}.{minor}.{int(patch) + 1}"


DS9, DS9_NEXT, XMM_NEXT = version_of("ds9-fits-viewer"), _next_patch("ds9-fits-viewer"), _next_patch("xmm-epic-spectrum-fit")


def test_gitlab_ci_matches_gitlabs_schema():
    checker = Path(sys.executable).with_name("check-jsonschema")
    proc = subprocess.run(
        [str(checker), "--builtin-schema", "vendor.gitlab-ci", str(REPO / ".gitlab-ci.yml")], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.fixture
def throwaway(tmp_path, registry, approved):
    """A copy of this repository with a merge request's worth of change on top."""
    if shutil.which("gitlab-ci-local") is None or shutil.which("rsync") is None:
        _needs("gitlab-ci-local and rsync", "npm install -g gitlab-ci-local@4.72.0; apt-get install rsync")
    root = tmp_path / "catalog"
    files = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout.split(b"\0")
    for name in filter(None, (f.decode() for f in files)):
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, target, follow_symlinks=False) if not (REPO / name).is_symlink() else target.symlink_to(
            (REPO / name).readlink()
        )
    (root / "build").mkdir()
    shutil.copy(REPO / "build" / "base-images.json", root / "build" / "base-images.json")
    write_settings(root, {"registry": f"{registry}/sciapps"}, source=root / "sciapps.yaml")
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "catalog")
    base = _git(root, "rev-parse", "HEAD")
    _git(root, "checkout", "-q", "-b", "ds9-summary")  # the merge request's branch
    metadata = root / "datalabs" / "ds9-fits-viewer" / "datalab.yaml"
    metadata.write_text(
        metadata.read_text()
        .replace(f"version: {DS9}\n", f"version: {DS9_NEXT}\n", 1)
        .replace(
            "changelog:\n", f'changelog:\n  - version: {DS9_NEXT}\n    date: "2026-11-25"\n    changes: [Clearer summary]\n', 1
        )
    )
    _git(root, "commit", "-qam", f"ds9-fits-viewer {DS9_NEXT}")
    return root, base


def _job_tmp(root: Path) -> Path:
    """The jobs' TMPDIR, one per test: in memory when the machine has room (each job installs
    SciApps there, about 750 MB, and a disk is the slow part of it, as OPERATIONS.md says for
    runners), else beside the test's repository."""
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK) and shutil.disk_usage(shm).free > 10 * 2**30:
        scratch = shm / f"sciapps-job-tmp-{root.parent.name}-{os.getpid()}"
    else:
        scratch = root.parent / "job-tmp"
    scratch.mkdir(exist_ok=True)
    return scratch


def run_pipeline(
    root: Path,
    *variables: str,
    project: dict[str, str] | None = None,
    only: tuple[str, ...] = (),
    succeeds: bool = True,
    ci_file: str | None = None,
) -> str:
    """Run the pipeline; `variables` are the parent pipeline's own (predefined ones such as
    CI_PIPELINE_SOURCE), `only` the jobs to run (default: all), `project` the project's CI/CD variables,
    which every pipeline gets, the child too (gitlab-ci-local reads them from .gitlab-ci-local-variables.yml, kept out of Git)."""
    # every job's temporary files in one place of the test's own, to check that no job leaves its environment behind
    scratch = _job_tmp(root)
    values = {
        "OSV_MIRROR": str(MIRROR),
        "TMPDIR": str(scratch),
        **(project or {}),
    }  # as plain variables (a path is not a file variable)
    (root / ".gitlab-ci-local-variables.yml").write_text(
        yaml.safe_dump({k: {"type": "variable", "values": {"*": v}} for k, v in values.items()})
    )
    exclude = root / ".git" / "info" / "exclude"
    if ".gitlab-ci-local-variables.yml" not in exclude.read_text():
        exclude.write_text(exclude.read_text() + "\n.gitlab-ci-local-variables.yml\n")
    # --shell-isolation: each job in its own copy of the repository, as on GitLab
    args = ["gitlab-ci-local", "--shell-isolation", *(["--file", ci_file] if ci_file else [])]
    for variable in variables:
        args += ["--variable", variable]
    args += only
    proc = subprocess.run(args, cwd=root, capture_output=True, text=True, timeout=1800)
    output = proc.stdout + proc.stderr
    (root / ".gitlab-ci-local" / "pipeline.log").write_text(output)  # whole, for a failure's reader
    # the parent passes whatever its child did (gitlab-ci-local ignores `strategy: depend`): both count
    passed = proc.returncode == 0 and "FAIL" not in jobs(output).values()
    assert passed is succeeds, output[-6000:]
    # each job installs SciApps into a folder of its own (hundreds of MB) and removes it when its shell exits
    left = [p.name for p in scratch.iterdir() if (p / "venv").exists() or (p / "src").exists()]
    assert left == [], f"jobs left their SciApps environment behind: {left}"
    if scratch.parent == Path("/dev/shm"):
        shutil.rmtree(scratch, ignore_errors=True)  # memory: nothing of it outlives the pipeline
    return output


def jobs(output: str) -> dict[str, str]:
    """{job: PASS or FAIL} of the parent's jobs and the child pipeline's ("[datalabs] -> build 1")."""
    found = re.findall(r"^ (PASS|FAIL) {2}(?:\[[^\]]+\] -> )?(.+?) *$", output, re.MULTILINE)
    return {name: status for status, name in found}


def passed_jobs(output: str) -> set[str]:
    return {name for name, status in jobs(output).items() if status == "PASS"}


def artifact(root: Path, path: str) -> Path:
    """A file some job of the pipeline (the parent's or the child's) kept as an artifact."""
    found = sorted((root / ".gitlab-ci-local" / "artifacts").glob(f"*/{path}"))
    assert len(found) == 1, f"{path}: {found}"
    return found[0]


class Markers:
    """A listener that every planted marker calls (from the runner, or from a `RUN` step of
    a Docker build, which has the host's network): a call means merge-request code ran."""

    def __init__(self):
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.hits: list[str] = []
        hits = self.hits

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                hits.append(self.path)
                self.send_response(404)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def python(self, where: str) -> str:
        """Python that says it ran, and calls the listener."""
        url = f"http://127.0.0.1:{self.server.server_address[1]}/{where}"
        return f"import urllib.request; print('MR-MARKER-{where}'); urllib.request.urlopen({url!r}, timeout=5)"

    def shell(self, where: str) -> str:
        return f'python3 -c "{self.python(where)}"'


def _plant(root: Path, markers: Markers) -> list[str]:
    """A merge request's every way to run its own code in its pipeline, each with a marker;
    the paths it changes outside datalabs/."""

    def write(path: str, text: str, mode: int = 0o644) -> None:
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        target.chmod(mode)

    ci = yaml.safe_load((root / ".gitlab-ci.yml").read_text())
    ci["default"]["before_script"].insert(0, markers.shell("ci-default"))
    ci["variables"].update(
        {
            "PIP_INDEX_URL": f"http://127.0.0.1:{markers.server.server_address[1]}/pip-index/",
            "PYTHONSTARTUP": "sitecustomize.py",
            "PYTHONPATH": ".",
        }
    )
    write(".gitlab-ci.yml", yaml.safe_dump(ci, sort_keys=False))
    write("venv/__init__.py", markers.python("venv-module") + "\n")
    write("venv/__main__.py", markers.python("venv-main") + "\n")
    write("ensurepip/__init__.py", markers.python("ensurepip-module") + "\n")
    write("ensurepip/__main__.py", markers.python("ensurepip-main") + "\n")
    write(".venv/pyvenv.cfg", "home = /usr/bin\ninclude-system-site-packages = false\n")
    for program in ("pip", "python", "python3", "sciapps"):
        write(f".venv/bin/{program}", f"#!/bin/sh\n{markers.shell('dot-venv-' + program)}\n", 0o755)
    write("sitecustomize.py", markers.python("sitecustomize") + "\n")
    write("usercustomize.py", markers.python("usercustomize") + "\n")
    write("zz-marker.pth", markers.python("pth") + "\n")
    write("sciapps/__init__.py", markers.python("sciapps-package") + "\n")
    write("setup.py", markers.python("setup-py") + "\n")
    write("tools/sciapps/__init__.py", (root / "tools/sciapps/__init__.py").read_text() + "\n" + markers.python("tools") + "\n")
    dockerfile = root / "base-images" / "jl_base" / "Dockerfile"
    write("base-images/jl_base/Dockerfile", dockerfile.read_text() + f"\nRUN {markers.shell('base-image')}\n")
    write("charts/datalab/templates/marker.yaml", '{{ fail "MR-MARKER-chart" }}\n')
    return [
        ".gitlab-ci.yml",
        ".venv/bin/pip",
        ".venv/bin/python",
        ".venv/bin/python3",
        ".venv/bin/sciapps",
        ".venv/pyvenv.cfg",
        "base-images/jl_base/Dockerfile",
        "charts/datalab/templates/marker.yaml",
        "ensurepip/__init__.py",
        "ensurepip/__main__.py",
        "roles.yaml",
        "sciapps/__init__.py",
        "setup.py",
        "sitecustomize.py",
        "tools/sciapps/__init__.py",
        "usercustomize.py",
        "venv/__init__.py",
        "venv/__main__.py",
        "zz-marker.pth",
    ]


def _two_runners(tmp_path: Path, second_engine) -> dict[str, str]:
    """The child pipeline's jobs on two runners, as GitLab spreads them: each build job on a
    second Docker engine (its own data root and socket) that starts with no image at all,
    every other job on the first, so that each scan and test runs on another engine than the
    build it needs. The runner a job lands on is its DOCKER_HOST (bash reads BASH_ENV before
    the job's script). The project variables that say so."""
    for container in second_engine.client.containers.list(all=True):
        container.remove(force=True)
    second_engine.client.images.prune(filters={"dangling": False})
    assert second_engine.client.images.list() == []
    chooser = tmp_path / "runner.sh"
    chooser.write_text(f'case "${{CI_JOB_NAME:-}}" in "build "*) export DOCKER_HOST={second_engine.host} ;; esac\n')
    return {"BASH_ENV": str(chooser)}


def _built(root: Path, datalab: str) -> dict:
    """What the build job of `datalab` recorded (its build.json's details, as each later job kept it)."""
    found = {
        json.dumps(json.loads(p.read_text())["details"], sort_keys=True)
        for p in (root / ".gitlab-ci-local" / "artifacts").glob(f"*/build/results/{datalab}/build.json")
    }
    assert len(found) == 1, found  # one record, one digest, the same in every job's copy
    return json.loads(found.pop())


def _staged(root: Path, datalab: str) -> dict:
    """Where the build job of `datalab` staged its image."""
    return _built(root, datalab)["staged"]


def test_merge_request_pipeline(throwaway, engine, second_engine, tmp_path):
    """A merge request changes a datalab, and also tries to run its own code and to judge
    itself: it edits the pipeline file (the parent runs the target's, as from a protected
    CI project), commits a `venv` module, a `.venv`, `sitecustomize.py`, a `.pth`, a
    `sciapps` package and a `setup.py` at the root, changes SciApps, the jl_base image and
    the chart, makes its author a moderator and an advanced developer, and changes an
    advanced datalab although its author is not an advanced developer on the target branch's
    head (they were at the merge base: the branch starts from an old main, whose roles,
    tools and bases judge nothing here). No marker runs in any job; the plain datalab passes every stage; the advanced one is held
    for a moderator, unbuilt; the review lists every change that waits for a moderator and
    fails the merge request for changing the rules without a moderator. The child's jobs run
    on two runners (`_two_runners`): its image travels from the build's to the others through
    the registry, by digest, and its review image is that digest."""
    from tests.review.fake_gitlab import FakeGitLab, Server

    root, base = throwaway  # the merge request branched from `base`, an old commit of main (the merge base)
    _git(root, "checkout", "-q", "main")  # since then, main revoked aokonkwo's role: the head judges, not the merge base
    roles = root / "roles.yaml"
    roles.write_text(roles.read_text().replace("advanced_developers: [aokonkwo]", "advanced_developers: [hschmidt]"))
    _git(root, "commit", "-qam", "aokonkwo is no longer an advanced developer")
    head = _git(root, "rev-parse", "HEAD")
    _origin(root)
    trusted_ci = (root / ".gitlab-ci.yml").read_text()
    _git(root, "checkout", "-q", "ds9-summary")  # not rebased: its merge base is the old commit
    markers = Markers()
    roles.write_text(
        roles.read_text()
        .replace("moderators: [cbenedetti, mlindqvist]", "moderators: [cbenedetti, mlindqvist, aokonkwo]")
        .replace("advanced_developers: [hschmidt]", "advanced_developers: [hschmidt, aokonkwo]")
    )
    waiting = _plant(root, markers)
    advanced = root / "datalabs" / "jwst-nircam-image-explorer" / "Dockerfile"
    advanced.write_text(
        advanced.read_text().replace("FROM jl_base\n", f"FROM jl_base\nRUN {markers.shell('advanced-dockerfile')}\n", 1)
    )
    # a notebook the moderator should see inside, with an output that carries script
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# Inspecting the cutout"),
        nbformat.v4.new_code_cell("from astropy.io import fits\nfits.info('data/nircam_f200w_cutout.fits')"),
    ]
    notebook.cells[1].outputs = [nbformat.v4.new_output("display_data", data={"text/html": "<script>alert('mr')</script>"})]
    for number, cell in enumerate(notebook.cells):
        cell["id"] = f"cell-{number}"
    (root / "datalabs" / "ds9-fits-viewer" / "notebooks").mkdir()
    nbformat.write(notebook, root / "datalabs" / "ds9-fits-viewer" / "notebooks" / "inspect.ipynb")
    _git(root, "add", "-A")
    _git(root, "add", "-f", ".venv", "sitecustomize.py", "zz-marker.pth")  # whatever the target's .gitignore says
    _git(root, "commit", "-qm", "ds9 and jwst, and my own tools")
    _bump(root, "jwst-nircam-image-explorer", _next_patch("jwst-nircam-image-explorer"))
    # the pipeline file GitLab runs is the protected project's (SECURITY.md), here the target's copy beside the checkout
    (root / ".trusted-ci.yml").write_text(trusted_ci)
    exclude = root / ".git" / "info" / "exclude"
    exclude.write_text(exclude.read_text() + "\n.trusted-ci.yml\n")
    gitlab = Server(FakeGitLab(open_merge_request=True))  # merge request !7, opened by aokonkwo
    try:
        # the child pipeline's source is parent_pipeline: it has the merge request's variables, not that source
        output = run_pipeline(
            root,
            "CI_PIPELINE_SOURCE=merge_request_event",
            project={
                "CI_MERGE_REQUEST_DIFF_BASE_SHA": base,
                "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
                "GITLAB_USER_LOGIN": "mlindqvist",
                "CI_API_V4_URL": f"{gitlab.url}/api/v4",
                "CI_PROJECT_ID": "42",
                "CI_MERGE_REQUEST_IID": "7",
                "SCIAPPS_REVIEW_TOKEN": "glpat-test",
                **_two_runners(tmp_path, second_engine),
            },
            succeeds=False,
            ci_file=".trusted-ci.yml",
        )
    finally:
        gitlab.close()
        markers.server.shutdown()
    assert markers.hits == [] and "MR-MARKER" not in output, (markers.hits, output[-3000:])
    assert jobs(output) == {
        **dict.fromkeys(("sciapps", "validate", "plan", "datalabs"), "PASS"),
        **{f"{job} {shard('ds9-fits-viewer')}": "PASS" for job in ("build", "scan", "test", "chart", "review image")},
        "preview": "PASS",
        "review": "FAIL",
    }, output[-3000:]
    assert (
        "build  ds9-fits-viewer: its files changed" in output and "1 to build, 0 to chart only, 1 held for a moderator" in output
    )
    planned = json.loads(artifact(root, "build/plan.json").read_text())
    assert planned["build"] == ["ds9-fits-viewer"] and planned["changed_bases"] == [] and planned["chart"] == []
    assert [h["id"] for h in planned["held"]] == ["jwst-nircam-image-explorer"]
    assert "`aokonkwo` is not one in the target branch's roles.yaml" in planned["held"][0]["reasons"][-1]
    assert [w["path"] for w in planned["waiting"]] == waiting
    child = yaml.safe_load(artifact(root, "build/child-pipeline.yml").read_text())
    assert child["variables"]["SCIAPPS_MERGE_REQUEST"] == "true" and child["variables"]["BASE_REV"] == base
    # every job, the child's too, ran SciApps and its rules from main's head, fetched by name, never from the merge base
    assert child["variables"]["SCIAPPS_TRUSTED_REV"] == head == planned["trusted"]
    assert output.count(f"SciApps, its rules and its bases: revision {head}") == 2  # the parent's sciapps job and the child's
    assert f"revision {base}" not in output
    assert "PIP_INDEX_URL" not in child["variables"] and "MR-MARKER" not in json.dumps(child)
    review = artifact(root, "review.md").read_text()
    assert "author: `aokonkwo`" in review  # GitLab's answer, not the pipeline's runner (mlindqvist)
    # the verdict first, with why the review fails although the datalab passed every stage
    assert review.index("**Needs changes:**") < review.index("## Repository files")
    verdict = next(line for line in review.splitlines() if line.startswith("**Needs changes:**"))
    assert "it changes repository files, which only a moderator may change; `aokonkwo` is not one" in verdict
    assert "## `ds9-fits-viewer`: changed" in review and f"| `version` | `{DS9}` | `{DS9_NEXT}` |" in review
    assert "- `notebooks/inspect.ipynb` (added): 2 cell(s) added, 0 removed, 0 changed" in review
    page = artifact(root, "review-notebooks/ds9-fits-viewer/notebooks/inspect.ipynb.diff.html").read_text()
    assert "&lt;script&gt;alert(&#x27;mr&#x27;)&lt;/script&gt;" in page and "<script" not in page
    # the preview store: the merge request's datalab page with its banner and its review image, by digest
    recorded = json.loads(artifact(root, "build/results/ds9-fits-viewer/review-image.json").read_text())
    registry = planned_registry(root)
    assert re.fullmatch(rf"{re.escape(registry)}/review/ds9-fits-viewer@sha256:[0-9a-f]{{64}}", recorded["image"])
    assert recorded["merge_request"] == "7" and recorded["tag"].startswith("mr-7-")
    preview_page = artifact(root, "public-preview/datalabs/ds9-fits-viewer/index.html").read_text()
    assert "Unreviewed preview of merge request !7." in preview_page and "noindex" in preview_page
    assert f'data-preview-image="{recorded["image"]}"' in preview_page
    assert recorded["image"].rpartition("@")[2].replace(":", "%3A") in preview_page  # its Launch, by digest
    api = json.loads(artifact(root, "public-preview/api/datalabs/ds9-fits-viewer.json").read_text())
    assert api["preview"] == {
        "unreviewed": True,
        "label": "merge request !7",
        "merge_request": "7",
        "previewed": True,
        "image": recorded["image"],
    }
    assert not list((root / ".gitlab-ci-local" / "artifacts").glob("*/public/api/catalog.json"))  # the real store: untouched
    assert not list((root / ".gitlab-ci-local" / "artifacts").glob("*/public-preview/feed.xml"))
    # built on the second runner, staged in review/<id> with the job's credentials; scan and test on the first
    # pulled that digest; the review image is a registry-side tag of it, the very image the tests ran
    built = _built(root, "ds9-fits-viewer")
    staged = built["staged"]
    assert staged["repository"] == f"{registry}/review/ds9-fits-viewer"
    assert recorded["image"] == f"{staged['repository']}@{staged['digest']}"
    assert second_engine.image_id(built["ref"]) == staged["image_id"] == engine.image_id(recorded["image"])
    assert f"pulling {recorded['image']}" in output  # by the scan or the test job, on the first runner
    host, _, path = registry.partition("/")
    with urllib.request.urlopen(f"http://{host}/v2/{path}/review/ds9-fits-viewer/tags/list", timeout=10) as response:
        assert sorted(json.load(response)["tags"]) == sorted([recorded["tag"], "staged-" + built["ref"].rpartition(":")[2]])
    listed = re.findall(
        r"^- `([^`]+)` \((\w)\)$", review.split("## Repository files", 1)[1].split("Role checks", 1)[0], re.MULTILINE
    )
    assert [path for path, _ in listed] == waiting  # nothing the jobs wrote themselves
    assert "None of them ran in this pipeline" in review
    assert "only a moderator may change these files; `aokonkwo` is not one" in review
    ds9, jwst = review.split("## `ds9-fits-viewer`", 1)[1].split("## `jwst-nircam-image-explorer`", 1)
    assert "Role checks: passed" in ds9
    for stage in ("build", "scan", "test", "chart"):
        assert re.search(rf"\| {stage} \| passed \|", ds9), review
        assert re.search(rf"\| {stage} \| held \| waits for a moderator \|", jwst), review
    assert "Not built in this pipeline" in jwst and "which only advanced developers may submit; aokonkwo is not one" in jwst


def _origin(root: Path) -> Path:
    """The GitLab project the runners fetch from: a bare repository beside the checkout whose
    `main` is the protected default branch (every merge request's job fetches its head by name)."""
    bare = root.parent / "origin.git"
    _git(root.parent, "init", "-q", "--bare", str(bare))
    _git(root, "remote", "add", "origin", str(bare))
    _git(root, "push", "-q", "origin", "main")
    _git(root, "remote", "set-head", "origin", "main")
    return bare


def test_a_merge_request_into_a_members_own_branch_runs_nothing(throwaway):
    """A member pushes a branch with their own tools/ and roles.yaml, then opens a merge
    request into it. GitLab starts no pipeline for it (`workflow:`, which gitlab-ci-local does
    not apply), and the pipeline's first job refuses it again in one sentence, before it
    builds anything: no job runs their tools, none after it runs at all."""
    root, base = throwaway
    _git(root, "checkout", "-q", "-b", "own", "ds9-summary")
    tools = root / "tools" / "sciapps" / "__init__.py"
    tools.write_text(tools.read_text() + "\nraise SystemExit('MR-MARKER-own-branch')\n")
    _git(root, "commit", "-qam", "my tools")
    _origin(root)
    ci = yaml.safe_load((root / ".gitlab-ci.yml").read_text())
    assert ci["workflow"]["rules"][0] == {
        "if": '$CI_PIPELINE_SOURCE == "merge_request_event" && $CI_MERGE_REQUEST_TARGET_BRANCH_NAME == $CI_DEFAULT_BRANCH'
    }
    output = run_pipeline(
        root,
        "CI_PIPELINE_SOURCE=merge_request_event",
        project={"CI_MERGE_REQUEST_DIFF_BASE_SHA": base, "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "ds9-summary"},
        succeeds=False,
    )
    assert jobs(output) == {"sciapps": "FAIL"} and "MR-MARKER" not in output, output[-3000:]
    assert (
        'error: this pipeline is not a merge request into the protected default branch (it targets "ds9-summary"): '
        "nothing that needs trust runs; retarget the merge request to main" in output
    )
    assert not list((root / ".gitlab-ci-local" / "artifacts").glob("*/.sciapps-runtime/*"))


def planned_registry(root: Path) -> str:
    """The registry of the throwaway catalog's sciapps.yaml."""
    return yaml.safe_load((root / "sciapps.yaml").read_text())["registry"]


def _bump(root: Path, datalab: str, version: str) -> None:
    """Raise a datalab's version, with its changelog entry: one merged change."""
    metadata = root / "datalabs" / datalab / "datalab.yaml"
    text = metadata.read_text()
    old = re.search(r"^version: (\S+)$", text, re.MULTILINE)
    text = text.replace(old[0], f"version: {version}", 1).replace(
        "changelog:\n", f'changelog:\n  - version: {version}\n    date: "2026-11-25"\n    changes: [Release {version}]\n', 1
    )
    metadata.write_text(text)
    _git(root, "commit", "-qam", f"{datalab} {version}")


def _api(root: Path, datalab: str) -> dict:
    return json.loads(
        (root / ".gitlab-ci-local" / "artifacts" / "pages" / "public" / "api" / "datalabs" / f"{datalab}.json").read_text()
    )


DRAFTS = ("euclid-q1-photoz", "gaia-dr3-hrd", "planck-cmb-map-viewer")


def _digests(api: dict) -> list[tuple[str, int, bool]]:
    return [(v["version"], v["build"], v["verified"]) for v in api["versions"]]


def test_default_branch_pipelines_publish_and_a_base_change_rebuilds_its_dependents(
    throwaway, registry, tmp_path, engine, second_engine
):
    """Two default-branch pipelines and two nights of the audit schedule, as an operator
    sees them (on the example catalog with three JupyterLab datalabs back to draft, for
    time). The first pipeline merges new versions
    of two datalabs: the plan writes one chain per datalab, each chain publishes its own.
    The second changes base-images/jl_base: its child pipeline rebuilds exactly the
    published JupyterLab datalabs, and their release records gain a new build (xmm's 2.0.2
    is now build 2, with its own digest; build 1 stays launchable and verifiable by digest).
    The pages job reads the release records from the registry, not the pipeline's results.
    The child's jobs run on two runners (`_two_runners`): each release is the digest its
    build staged on the second, copied in the registry, its record verified."""
    from sciapps.releases import signing

    root, _ = throwaway
    _git(root, "checkout", "-q", "main")
    signing.generate(tmp_path / "private" / "release.key", root / "keys" / "release.pub")
    for draft in DRAFTS:  # fewer published JupyterLab datalabs, a shorter test
        metadata = root / "datalabs" / draft / "datalab.yaml"
        metadata.write_text(metadata.read_text().replace("\nstatus: published\n", "\nstatus: draft\n"))
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "the catalog's public key; three datalabs are drafts again")
    # a project variable, so that the child pipeline has it too, as GitLab gives it to every pipeline of a
    # protected branch (gitlab-ci-local passes no --variable to a child, and says "false" without it)
    key = {
        signing.SIGNING_KEY_VARIABLE: str(tmp_path / "private" / "release.key"),
        "CI_COMMIT_REF_PROTECTED": "true",
        **_two_runners(tmp_path, second_engine),
    }
    for datalab, version in (("xmm-epic-spectrum-fit", XMM_NEXT), ("ds9-fits-viewer", DS9_NEXT)):
        _bump(root, datalab, version)
    _git(root, "reset", "-q", "--soft", "HEAD~2")
    _git(
        root, "commit", "-qm", f"merge: xmm-epic-spectrum-fit {XMM_NEXT} and ds9-fits-viewer {DS9_NEXT}"
    )  # one merge, two datalabs
    output = run_pipeline(root, "CI_COMMIT_REF_PROTECTED=true", project=key)
    chain = ("build", "scan", "test", "chart", "push", "publish")
    assert passed_jobs(output) == {
        "sciapps",
        "validate",
        "plan",
        "datalabs",
        "pages",
        *(f"{job} {shard(lab)}" for job in chain for lab in ("xmm-epic-spectrum-fit", "ds9-fits-viewer")),
    }, output[-3000:]
    assert (
        f"ds9-fits-viewer: published {DS9_NEXT} build 1" in output
        and f"xmm-epic-spectrum-fit: published {XMM_NEXT} build 1" in output
    )
    first = _api(root, "xmm-epic-spectrum-fit")
    assert _digests(first) == [(XMM_NEXT, 1, True)]
    for lab in ("xmm-epic-spectrum-fit", "ds9-fits-viewer"):  # the release is what the build staged on the other runner
        staged = _staged(root, lab)
        assert staged["repository"] == f"{planned_registry(root)}/staging/{lab}", staged
        assert _api(root, lab)["versions"][0]["digest"] == staged["digest"] and f"pulling {staged['repository']}@" in output
        assert second_engine.image_id(staged["image_id"]) and engine.image_id(staged["image_id"]) == staged["image_id"]

    dockerfile = root / "base-images" / "jl_base" / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text() + "# a security fix\n")
    _git(root, "commit", "-qam", "jl_base: a security fix")
    output = run_pipeline(root, "CI_COMMIT_REF_PROTECTED=true", project=key)
    planned = json.loads(artifact(root, "build/plan.json").read_text())
    # the published JupyterLab datalabs, the advanced one (FROM jl_base) too; not the drafts, nor the archived herschel
    jupyterlab = ["jwst-nircam-image-explorer", "xmm-epic-spectrum-fit"]
    assert planned["changed_bases"] == ["jl_base"] and planned["build"] == jupyterlab and planned["chart"] == []
    # the plan's job pushed the rebuilt bases and pinned them by digest; each build job pulled them, built none
    child = yaml.safe_load(artifact(root, "build/child-pipeline.yml").read_text())
    pinned = json.loads(child["variables"]["SCIAPPS_BASES"])
    assert sorted(pinned) == ["datalabs_ubuntu_base", "jl_base", "x_base"]
    assert all(re.fullmatch(r"sha256:[0-9a-f]{64}", base["digest"]) for base in pinned.values())
    for lab in jupyterlab:
        build_job = child[f"build {shard(lab)}"]
        assert build_job["script"][0] == 'sciapps base-images pull --pinned "$SCIAPPS_BASES" | tail -3'
        built = sorted(
            (root / ".gitlab-ci-local" / "artifacts").glob(f"*/build/results/{lab}/build.json")
        )  # each later job keeps it
        lock = json.loads(built[0].read_text())
        assert {b["name"]: b["image_id"] for b in lock["details"]["bases"]}.items() <= {
            n: b["image_id"] for n, b in pinned.items()
        }.items()
    assert "bootstrapping Debian" not in output.split("[datalabs]", 1)[-1]  # no child job bootstraps
    assert {name for name in jobs(output) if name.startswith("build ")} == {f"build {shard(lab)}" for lab in jupyterlab}
    assert all(status == "PASS" for status in jobs(output).values()), output[-3000:]
    assert f"xmm-epic-spectrum-fit: published {XMM_NEXT} build 2" in output
    xmm, ds9 = _api(root, "xmm-epic-spectrum-fit"), _api(root, "ds9-fits-viewer")
    assert _digests(xmm) == [(XMM_NEXT, 2, True), (XMM_NEXT, 1, True)] and _digests(ds9) == [
        (DS9_NEXT, 1, True)
    ]  # ds9 is not on jl_base
    assert xmm["versions"][0]["digest"] != xmm["versions"][1]["digest"]
    assert {b["name"]: b["digest"] for b in xmm["versions"][0]["bases"]}["jl_base"] != {
        b["name"]: b["digest"] for b in xmm["versions"][1]["bases"]
    }["jl_base"]
    for datalab in jupyterlab:
        assert _api(root, datalab)["release"]["verified"], datalab
    for e in (xmm, ds9):
        assert {stage: c["status"] for stage, c in e["ci"].items()} == dict.fromkeys(("build", "scan", "test", "chart"), "passed")
    page = (
        root / ".gitlab-ci-local" / "artifacts" / "pages" / "public" / "datalabs" / "ds9-fits-viewer" / "index.html"
    ).read_text()
    assert "<strong>verified</strong>" in page and "not published yet" not in page
    for spec in (
        f"xmm-epic-spectrum-fit@{XMM_NEXT}",
        f"xmm-epic-spectrum-fit@{first['versions'][0]['digest']}",
        "ds9-fits-viewer",
    ):
        proc = subprocess.run(
            [sys.executable, "-m", "sciapps", "verify", spec], cwd=root, capture_output=True, text=True, timeout=120
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
    with urllib.request.urlopen(f"http://{registry}/v2/charts/xmm-epic-spectrum-fit/tags/list", timeout=10) as response:
        tags = json.load(response)["tags"]
    # the version's tag, and each build's chart kept under its image tag too (nothing left untagged)
    assert XMM_NEXT in tags and len([t for t in tags if t.startswith(f"{XMM_NEXT}-")]) == 2
    _audit_schedule(root, tmp_path, key)


def _osv_exports(folder: Path, records: list[dict]) -> None:
    """OSV's exports as osv.dev publishes them (<ecosystem>/all.zip), here with `records`."""
    import zipfile

    for ecosystem in ("PyPI", "Debian"):
        (folder / ecosystem).mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(folder / ecosystem / "all.zip", "w") as z:
            for record in records if ecosystem == "PyPI" else []:
                z.writestr(f"{record['id']}.json", json.dumps(record))


def _audit_schedule(root: Path, tmp_path: Path, key: dict[str, str]) -> None:
    """The audit schedule after the publications: a new advisory in OSV's export for a
    package in xmm's published SBOM shows on its store page, and its maintainers get one
    issue on the GitLab stand-in; the next night's run updates that issue, never a second."""
    import threading
    from functools import partial
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    from tests.review.fake_gitlab import FakeGitLab, Server

    subprocess.run([sys.executable, "-m", "sciapps", "releases", "sync"], cwd=root, check=True, capture_output=True, timeout=300)
    (sbom,) = [json.loads(p.read_text()) for p in (root / "build" / "releases" / "xmm-epic-spectrum-fit").glob("*.sbom.json")][:1]
    package = next(c for c in sbom["components"] if str(c.get("purl", "")).startswith("pkg:pypi/"))
    advisory = {
        "id": "GHSA-test-0000-0001",
        "summary": f"A flaw in {package['name']}",
        "modified": "2026-11-25T00:00:00Z",
        "database_specific": {"severity": "CRITICAL"},
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": package["name"]},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "99999"}]}],
            }
        ],
    }
    exports = tmp_path / "osv-exports"
    _osv_exports(exports, [advisory])
    http = ThreadingHTTPServer(("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=str(exports)))
    threading.Thread(target=http.serve_forever, daemon=True).start()
    gitlab = Server(FakeGitLab())
    write_settings(root, {"gitlab.url": gitlab.url}, source=root / "sciapps.yaml")
    _git(root, "commit", "-qam", "the catalog's GitLab")
    project = {
        **key,
        "SCIAPPS_SCHEDULE": "audit",
        "OSV_MIRROR": str(tmp_path / "osv-mirror"),
        "SCIAPPS_ISSUES_TOKEN": "glpat-test",
        "OSV_SOURCE": f"http://127.0.0.1:{http.server_address[1]}",
    }
    try:
        output = run_pipeline(root, "CI_PIPELINE_SOURCE=schedule", "CI_COMMIT_REF_PROTECTED=true", project=project)
        # and audit, which ends 1: new advisories
        assert set(jobs(output)) == {"sciapps", "validate", "osv-sync", "pages"}, output[-3000:]
        assert f"xmm-epic-spectrum-fit {XMM_NEXT} build 2: 1 new advisory since publication: GHSA-test-0000-0001" in output
        assert "xmm-epic-spectrum-fit: maintainers' issue opened" in output
        issues = gitlab.fake.upstream.issues  # one per affected datalab (another built on the same package may have one too)
        (issue,) = [i for i in issues if "audit::xmm-epic-spectrum-fit" in i["labels"]]
        assert (
            issue["labels"] == ["sciapps::audit", "audit::xmm-epic-spectrum-fit"]
            and "GHSA-test-0000-0001" in issue["description"]
        )
        opened = len(issues)
        assert opened == len(
            set(re.findall(r"([\w-]+): maintainers' issue opened", output))
        )  # (the log shows a line more than once)
        page = (
            root / ".gitlab-ci-local" / "artifacts" / "pages" / "public" / "datalabs" / "xmm-epic-spectrum-fit" / "index.html"
        ).read_text()
        assert "1 new advisory since publication</strong>" in page and "GHSA-test-0000-0001" in page
        # the next night (its audit job): the same issue, never a second
        output = run_pipeline(
            root, "CI_PIPELINE_SOURCE=schedule", "CI_COMMIT_REF_PROTECTED=true", project=project, only=("audit",)
        )
        assert "xmm-epic-spectrum-fit: maintainers' issue unchanged" in output and "issue opened" not in output
        assert len(gitlab.fake.upstream.issues) == opened and issue["state"] == "opened"
    finally:
        gitlab.close()
        http.shutdown()


def test_sciapps_ci_reproduces_the_pipeline_locally(throwaway):
    root, base = throwaway
    proc = subprocess.run(
        [sys.executable, "-m", "sciapps", "ci", "--base", base, "--author", "aokonkwo", "--osv-mirror", str(MIRROR)],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    for stage in ("validate", "build", "scan", "test", "chart", "review"):
        assert f"== {stage}: sciapps" in proc.stdout
    assert "== all stages passed" in proc.stdout
    assert "Role checks: passed" in (root / "build" / "review.md").read_text()
