"""`sciapps submit` against replayed GitLab API responses (tests/review/gitlab/)."""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from sciapps.catalog.loader import load_datalab
from sciapps.config import load_config
from sciapps.errors import SciAppsError
from sciapps.review.submit import submit
from tests.conftest import REPO

RESPONSES = Path(__file__).parent / "gitlab"
PROJECT = "/api/v4/projects/42"


def canned(name: str) -> dict:
    return json.loads((RESPONSES / f"{name}.json").read_text())


class FakeGitLab:
    """Replays GitLab's documented responses; records every request."""

    def __init__(self, merge_request_status=201, token_valid=True, open_merge_request=False, branch_exists=False):
        self.requests: list[tuple[str, str, dict | None]] = []
        self.merge_request_status = merge_request_status
        self.token_valid = token_valid
        self.open_merge_request = open_merge_request
        self.branch_exists = branch_exists
        self.branch_deleted = False

    def respond(self, method: str, path: str, body: dict | None) -> tuple[int, object]:
        self.requests.append((method, path, body))
        route = path.split("?")[0]
        if not self.token_valid:
            return 401, {"message": "401 Unauthorized"}
        if method == "GET" and route in ("/api/v4/projects/datalabs%2Fsciapps", PROJECT):
            return 200, canned("project")
        if method == "GET" and route.startswith(f"{PROJECT}/repository/files/"):
            return 404, {"message": "404 File Not Found"}
        if method == "GET" and route == f"{PROJECT}/merge_requests":
            return 200, [canned("merge_request")] if self.open_merge_request else []
        if method == "GET" and route.startswith(f"{PROJECT}/repository/branches/"):
            return (200, canned("branch")) if self.branch_exists else (404, {"message": "404 Branch Not Found"})
        if method == "POST" and route == f"{PROJECT}/repository/branches":
            return 201, canned("branch")
        if method == "DELETE" and route.startswith(f"{PROJECT}/repository/branches/"):
            self.branch_deleted = True
            return 204, None
        if method == "POST" and route == f"{PROJECT}/repository/commits":
            return 201, canned("commit")
        if method == "POST" and route == f"{PROJECT}/merge_requests":
            if self.merge_request_status != 201:
                return self.merge_request_status, {"message": ["Another open merge request already exists for this source branch"]}
            return 201, canned("merge_request")
        return 404, {"message": f"404 {route} not replayed"}


@pytest.fixture
def gitlab_server():
    servers = []

    def start(fake: FakeGitLab) -> str:
        class Handler(BaseHTTPRequestHandler):
            def _any(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw and self.headers.get("Content-Type", "").startswith("application/json") else None
                status, payload = fake.respond(self.command, self.path, body)
                data = b"" if payload is None else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _any

            def log_message(self, *args):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()


def lab():
    return load_datalab(REPO / "datalabs" / "gaia-dr3-hrd", load_config(REPO / "sciapps.yaml").limits)


def test_opens_a_merge_request_with_one_commit(gitlab_server):
    fake = FakeGitLab()
    result = submit(lab(), gitlab_server(fake), "glpat-test", "datalabs/sciapps")
    assert result.merge_request_url == "https://gitlab.example.org/datalabs/sciapps/-/merge_requests/7"
    assert result.created_branch and result.branch == "datalab/gaia-dr3-hrd-1.2.0"
    posts = {path.split("?")[0]: body for method, path, body in fake.requests if method == "POST"}
    branch = posts[f"{PROJECT}/repository/branches"]
    assert branch == {"branch": "datalab/gaia-dr3-hrd-1.2.0", "ref": "main"}  # required: branch, ref
    commit = posts[f"{PROJECT}/repository/commits"]
    assert {"branch", "commit_message", "actions"} <= set(commit)  # required by POST /repository/commits
    files = {a["file_path"]: a for a in commit["actions"]}
    assert set(files) == {f"datalabs/gaia-dr3-hrd/{e.path}" for e in lab().files}
    for action in files.values():
        assert action["action"] == "create" and action["encoding"] == "base64"
    png = files["datalabs/gaia-dr3-hrd/screenshots/hr_diagram.png"]["content"]
    assert base64.b64decode(png) == (REPO / "datalabs/gaia-dr3-hrd/screenshots/hr_diagram.png").read_bytes()
    mr = posts[f"{PROJECT}/merge_requests"]
    assert {"source_branch", "target_branch", "title"} <= set(mr)  # required by POST /merge_requests
    assert mr["title"] == "Add datalab gaia-dr3-hrd 1.2.0" and "Checklist for the moderator" in mr["description"]


def test_failed_merge_request_removes_the_branch_it_created(gitlab_server):
    fake = FakeGitLab(merge_request_status=409)
    with pytest.raises(SciAppsError, match="refused the submission") as info:
        submit(lab(), gitlab_server(fake), "glpat-test", "datalabs/sciapps")
    assert fake.branch_deleted and "nothing was left behind" in info.value.hint


def test_retry_reuses_an_open_merge_request(gitlab_server):
    fake = FakeGitLab(open_merge_request=True, branch_exists=True)
    result = submit(lab(), gitlab_server(fake), "glpat-test", "datalabs/sciapps")
    assert result.reused_merge_request and not result.created_branch
    assert not [r for r in fake.requests if r[0] == "POST"]


def test_expired_token_is_a_clear_error(gitlab_server):
    with pytest.raises(SciAppsError, match="refused the token"):
        submit(lab(), gitlab_server(FakeGitLab(token_valid=False)), "glpat-expired", "datalabs/sciapps")


def test_unreachable_gitlab():
    with pytest.raises(SciAppsError, match="cannot reach GitLab"):
        submit(lab(), "http://127.0.0.1:9", "glpat-test", "datalabs/sciapps")
