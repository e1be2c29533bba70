"""`sciapps feedback-sync` against the GitLab stand-in: every page read, hostile issues made
harmless, and a GitLab that does not answer leaves the last export for the store."""

from __future__ import annotations

import json
import socket

from click.testing import CliRunner

from sciapps.cli import cli
from sciapps.config import load_config
from sciapps.feedback import item_of, label_of
from sciapps.site.model import Feedback, entry, feedback_body
from tests.conftest import REPO
from tests.review.fake_gitlab import FakeGitLab, Server
from tests.catalogs import write_settings


def issue(n: int, datalab: str | None, description: str = "", labels=(), author="Ada Lovelace", **extra) -> dict:
    return {
        "id": 1000 + n,
        "iid": n,
        "title": f"Feedback {n}",
        "state": "opened",
        "description": description,
        "labels": ([label_of(datalab)] if datalab else []) + list(labels),
        "author": {"name": author, "username": "ada"},
        "created_at": f"2026-{1 + n % 12:02d}-{1 + n % 28:02d}T10:00:00Z",
        "web_url": f"https://gitlab.example.org/datalabs/sciapps/-/issues/{n}",
        **extra,
    }


def catalog(tmp_path, url: str):
    write_settings(tmp_path, {"gitlab.url": url})
    config = load_config(tmp_path / "sciapps.yaml")
    assert config.gitlab.url == url
    return config


def sync(config, token="glpat-test"):
    from sciapps.feedback import sync as run

    return run(config, token, log=lambda line: None)


def test_every_page_of_issues_is_read(tmp_path):
    fake = FakeGitLab()
    meta = {"id": "gaia-dr3-hrd", "name": "Gaia HRD", "version": "1.2.0"}
    body = feedback_body(meta).replace("praise / problem / idea", "problem").replace("\n\n\n", "\nThe plot is empty.\n\n", 1)
    fake.upstream.issues = [issue(n, "gaia-dr3-hrd" if n % 2 else "topcat-desktop", body) for n in range(1, 251)]
    fake.upstream.issues.append(issue(900, None, "a bug report about the store itself"))  # not feedback on a datalab
    server = Server(fake)
    try:
        path = sync(catalog(tmp_path, server.url))
    finally:
        server.close()
    export = json.loads(path.read_text())
    assert len(export["items"]) == 250 and {i["datalab"] for i in export["items"]} == {"gaia-dr3-hrd", "topcat-desktop"}
    pages = [p for m, p, *_ in fake.requests if m == "GET" and "/issues" in p]
    assert len(pages) == 3  # 100 + 100 + 51, following GitLab's Link header
    first = next(i for i in export["items"] if i["datalab"] == "gaia-dr3-hrd")
    assert first["kind"] == "problem" and first["comment"] == "The plot is empty." and first["author"] == "Ada Lovelace"
    assert '/label ~"datalab::gaia-dr3-hrd"' in body  # the store's link sets the label with a quick action
    feedback = Feedback.load(path)
    assert feedback.problems == [] and feedback.summary("gaia-dr3-hrd")["total"] == 125


def test_hostile_issues_are_plain_text_or_left_out():
    assert item_of(issue(1, None, labels=[label_of("a"), label_of("b")])) is None  # two datalabs: ambiguous
    assert item_of({**issue(2, None), "labels": [label_of("../../etc")]}) is None  # not a datalab id
    item = item_of(
        issue(
            3,
            "gaia-dr3-hrd",
            "x\u202eevil\x1b[2J" + "y" * 5000,
            labels=["feedback::praise"],
            author="Eve\u200b" + "e" * 300,
            web_url="javascript:alert(1)",
        )
    )
    assert item["kind"] == "praise" and "\u202e" not in item["comment"] and "\x1b" not in item["comment"]
    assert len(item["comment"]) <= 2000 and len(item["author"]) <= 100 and "url" not in item


def test_a_gitlab_that_does_not_answer_keeps_the_last_export(tmp_path):
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}"
    config = catalog(tmp_path, closed)
    last = tmp_path / "build" / "feedback.json"
    last.parent.mkdir()
    last.write_text(
        json.dumps(
            {
                "exported": "2026-10-01T08:00:00+00:00",
                "items": [{"datalab": "gaia-dr3-hrd", "kind": "praise", "date": "2026-09-30", "comment": "Lovely."}],
            }
        )
    )
    before = last.read_bytes()
    result = CliRunner().invoke(cli, ["feedback-sync", "--config", str(config.path)], env={"SCIAPPS_FEEDBACK_TOKEN": "t"})
    assert result.exit_code == 2 and "did not give" in result.output and "exported 2026-10-01" in result.output, result.output
    assert "Traceback" not in result.output and last.read_bytes() == before
    e = entry(json.loads(json.dumps({"id": "gaia-dr3-hrd"})) | _meta(), config, None, Feedback.load(last))
    assert e["feedback"]["exported"] == "2026-10-01"  # the store says how old its feedback is


def test_a_refused_token_is_one_sentence(tmp_path):
    server = Server(FakeGitLab(token_valid=False))
    try:
        result = CliRunner().invoke(
            cli, ["feedback-sync", "--config", str(catalog(tmp_path, server.url).path)], env={"SCIAPPS_FEEDBACK_TOKEN": "wrong"}
        )
    finally:
        server.close()
    assert result.exit_code == 2 and "refused the token" in result.output and "read_api" in result.output


def _meta() -> dict:
    from sciapps import yamlio

    return yamlio.load((REPO / "datalabs" / "gaia-dr3-hrd" / "datalab.yaml").read_text())
