"""A GitLab stand-in for the submission tests: `sciapps submit` (python-gitlab) and the
store's Create page (fetch from Chromium).

No GitLab server can run here, so this replays the responses GitLab's REST API
documentation gives for each call (tests/review/gitlab/*.json), keeps just enough state
(branches, files per branch, open merge requests) for retries to behave as on GitLab, and
records every request so tests can check the bodies against the documented required
fields. It answers CORS preflights the way GitLab does for /api/* and /oauth/token (any
origin, no credentials), and plays GitLab's OAuth authorization-code flow with PKCE:
/oauth/authorize redirects straight back with a code (the user "approves"), /oauth/token
checks the code_verifier against the code_challenge (S256).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

RESPONSES = Path(__file__).parent / "gitlab"
PROJECT_ID = 42
# the branch `sciapps submit` makes for the example gaia-dr3-hrd at its version today
_EXAMPLE = Path(__file__).resolve().parents[2] / "datalabs" / "gaia-dr3-hrd" / "datalab.yaml"
EXAMPLE_BRANCH = "datalab/gaia-dr3-hrd-" + next(
    line.split(": ", 1)[1] for line in _EXAMPLE.read_text().splitlines() if line.startswith("version: ")
)
PROJECT = f"/api/v4/projects/{PROJECT_ID}"
PROJECT_PATH = "/api/v4/projects/datalabs%2Fsciapps"


def canned(name: str) -> dict:
    return json.loads((RESPONSES / f"{name}.json").read_text())


class Project:
    """What the stand-in remembers of one project: branches, files per branch."""

    def __init__(self, pid: int, path: str, files=(), forked_from: int | None = None):
        self.id, self.path, self.forked_from = pid, path, forked_from
        self.branches = {"main"}
        self.files: dict[str, set[str]] = {"main": set(files)}
        self.open_merge_requests: dict[tuple[int, str], dict] = {}  # (source project, branch) -> MR
        self.issues: list[dict] = []  # as GET /projects/:id/issues returns them
        self.import_polls = 0 if forked_from else 2

    def info(self, member: bool) -> dict:
        data = {
            **canned("project"),
            "id": self.id,
            "path_with_namespace": self.path,
            "web_url": f"https://gitlab.example.org/{self.path}",
        }
        level = 50 if self.forked_from else (30 if member else None)  # Owner of a fork; Developer or none
        data["permissions"] = {"project_access": {"access_level": level} if level else None, "group_access": None}
        if self.forked_from:
            data["forked_from_project"] = {"id": self.forked_from}
            data["import_status"] = ("scheduled", "started", "finished")[min(self.import_polls, 2)]
            self.import_polls += 1
        return data


class FakeGitLab:
    """Replays GitLab's documented responses; records every request.

    member: whether the user may push to the catalog's project (Developer); otherwise
    commits there are refused (403) and a fork is the way, as on GitLab.
    fail: {"METHOD route-suffix": status or "drop"} answers that call with an error status,
    or closes the connection without an answer (a network failure mid-submission).
    """

    def __init__(
        self,
        merge_request_status=201,
        token_valid=True,
        open_merge_request=False,
        branch_exists=False,
        fail: dict | None = None,
        tokens=("glpat-test",),
        existing_files=(),
        member=True,
        merged: dict[str, list[dict]] | None = None,
    ):
        self.requests: list[tuple[str, str, dict | None, dict]] = []
        self.base_url = "http://gitlab.invalid"  # the Server sets where it listens
        self.token_valid = token_valid
        self.tokens = set(tokens)
        self.member = member
        self.fail = dict(fail or {})
        if merge_request_status != 201:
            self.fail["POST merge_requests"] = merge_request_status
        self.upstream = Project(PROJECT_ID, "datalabs/sciapps", existing_files)
        self.projects = {PROJECT_ID: self.upstream}
        if branch_exists:
            self.upstream.branches.add(EXAMPLE_BRANCH)
        if open_merge_request:
            self.upstream.open_merge_requests[(PROJECT_ID, EXAMPLE_BRANCH)] = canned("merge_request")
        self.branch_deleted = False
        self.oauth_codes: dict[str, dict] = {}
        # commit sha -> the merge requests GitLab associates with it (merged ones carry merge_commit_sha)
        self.merged = dict(merged or {})

    @property
    def branches(self) -> set[str]:
        return self.upstream.branches

    @property
    def files(self) -> dict[str, set[str]]:
        return self.upstream.files

    @property
    def forks(self) -> list[Project]:
        return [p for p in self.projects.values() if p.forked_from == PROJECT_ID]

    # -- helpers ------------------------------------------------------------
    def calls(self, method: str, suffix: str) -> list[dict | None]:
        """Bodies of the requests `METHOD .../suffix` (query left out)."""
        return [body for m, path, body, _ in self.requests if m == method and path.split("?")[0].endswith(suffix)]

    def _failure(self, method: str, route: str):
        for key, outcome in self.fail.items():
            m, suffix = key.split(" ", 1)
            if m == method and route.endswith(suffix):
                return outcome
        return None

    def _authorized(self, headers: dict) -> bool:
        if not self.token_valid:
            return False
        token = headers.get("private-token") or headers.get("authorization", "").removeprefix("Bearer ")
        return token in self.tokens

    def _project(self, key: str) -> Project | None:
        key = unquote(key)
        for project in self.projects.values():
            if key in (str(project.id), project.path):
                return project
        return None

    # -- the API ------------------------------------------------------------
    def respond(self, method: str, path: str, body, headers: dict) -> tuple[int, object, dict]:
        self.requests.append((method, path, body, headers))
        route = path.split("?")[0]
        query = parse_qs(urlsplit(path).query)
        if route == "/oauth/authorize":
            return self._authorize(query)
        if route == "/oauth/token":
            return self._token(body)
        if not self._authorized(headers):
            return 401, {"message": "401 Unauthorized"}, {}
        failure = self._failure(method, route)
        if failure == "drop":
            return -1, None, {}
        if failure:
            return (
                failure,
                {
                    "message": ["Another open merge request already exists for this source branch"]
                    if "merge_requests" in route
                    else f"{failure} refused"
                },
                {},
            )
        if method == "GET" and route == "/api/v4/user":
            return 200, {"id": 7, "username": "mlindqvist", "name": "Marta Lindqvist", "state": "active"}, {}
        match = re.fullmatch(r"/api/v4/projects/([^/]+)(/.*)?", route)
        project = self._project(match.group(1)) if match else None
        if project is None:
            return 404, {"message": f"404 {route} not replayed"}, {}
        return self._in_project(project, method, match.group(2) or "", query, body)

    def _in_project(self, p: Project, method: str, sub: str, query: dict, body) -> tuple[int, object, dict]:
        writable = self.member or p.forked_from is not None
        if method == "GET" and sub == "":
            return 200, p.info(self.member), {}
        if method == "GET" and sub == "/forks":
            return 200, [f.info(self.member) for f in self.forks], {}
        if method == "POST" and sub == "/fork":
            fork = Project(max(self.projects) + 1, "mlindqvist/sciapps", forked_from=p.id)
            fork.branches = set(p.branches)
            fork.files = {b: set(f) for b, f in p.files.items()}
            self.projects[fork.id] = fork
            return 201, fork.info(self.member), {}
        if method == "GET" and sub.startswith("/repository/files/"):
            file_path = unquote(sub.removeprefix("/repository/files/"))
            ref = query.get("ref", ["main"])[0]
            if file_path in p.files.get(ref, set()):
                return 200, {"file_path": file_path, "ref": ref, "encoding": "base64", "content": ""}, {}
            return 404, {"message": "404 File Not Found"}, {}
        if method == "GET" and sub == "/repository/tree":
            ref = query.get("ref", ["main"])[0]
            folder = query.get("path", [""])[0].rstrip("/") + "/"
            blobs = sorted(f for f in p.files.get(ref, set()) if f.startswith(folder))
            page = int(query.get("page", ["1"])[0])
            per_page = int(query.get("per_page", ["20"])[0])
            chunk = blobs[(page - 1) * per_page : page * per_page]
            more = page * per_page < len(blobs)
            items = [
                {"id": f"{i:040x}", "name": f.rsplit("/", 1)[-1], "type": "blob", "path": f, "mode": "100644"}
                for i, f in enumerate(chunk)
            ]
            return 200, items, {"X-Next-Page": str(page + 1) if more else "", "X-Page": str(page)}
        if method == "GET" and sub == "/issues":  # newest first, paged, with GitLab's Link and X-* headers
            page, per_page = int(query.get("page", ["1"])[0]), min(int(query.get("per_page", ["20"])[0]), 100)
            wanted = [label for label in query.get("labels", [""])[0].split(",") if label]  # every one of them, as GitLab filters
            state = query.get("state", ["all"])[0]
            listed = [i for i in p.issues if set(wanted) <= set(i["labels"]) and state in ("all", i["state"])]
            ordered = sorted(listed, key=lambda i: i["created_at"], reverse=query.get("sort", ["desc"])[0] == "desc")
            chunk = ordered[(page - 1) * per_page : page * per_page]
            headers = {"X-Page": str(page), "X-Per-Page": str(per_page), "X-Total": str(len(ordered))}
            if page * per_page < len(ordered):
                following = {**{k: v[0] for k, v in query.items()}, "page": str(page + 1)}
                headers["X-Next-Page"] = str(page + 1)
                headers["Link"] = f'<{self.base_url}/api/v4/projects/{p.id}/issues?{urlencode(following)}>; rel="next"'
            return 200, chunk, headers
        if method == "GET" and sub == "/merge_requests":
            source = query.get("source_branch", [None])[0]
            found = [mr for (_, branch), mr in p.open_merge_requests.items() if source in (None, branch)]
            return 200, found, {}
        single = re.fullmatch(r"/merge_requests/(\d+)", sub)
        if method == "GET" and single:  # GET /projects/:id/merge_requests/:iid, with its author
            found = [mr for mr in p.open_merge_requests.values() if str(mr["iid"]) == single.group(1)]
            return (200, found[0], {}) if found else (404, {"message": "404 Not found"}, {})
        associated = re.fullmatch(r"/repository/commits/([0-9a-f]{6,40})/merge_requests", sub)
        if method == "GET" and associated:  # "List merge requests associated with a commit"
            return 200, self.merged.get(associated.group(1), []), {}
        if method == "GET" and sub.startswith("/repository/branches/"):
            name = unquote(sub.removeprefix("/repository/branches/"))
            return (
                (200, {**canned("branch"), "name": name}, {})
                if name in p.branches
                else (404, {"message": "404 Branch Not Found"}, {})
            )
        if not writable:
            return 403, {"message": "403 Forbidden"}, {}
        if method == "POST" and sub == "/issues":  # POST /projects/:id/issues
            iid = max((i["iid"] for i in p.issues), default=0) + 1
            labels = body.get("labels") or []
            created = {
                "id": 5000 + iid,
                "iid": iid,
                "project_id": p.id,
                "title": body["title"],
                "description": body.get("description", ""),
                "state": "opened",
                "labels": labels.split(",") if isinstance(labels, str) else list(labels),
                "author": {"name": "SciApps bot", "username": "sciapps-bot"},
                "created_at": f"2026-11-25T10:{iid % 60:02d}:00Z",
                "web_url": f"https://gitlab.example.org/{p.path}/-/issues/{iid}",
                "notes": [],
            }
            p.issues.append(created)
            return 201, created, {}
        one = re.fullmatch(r"/issues/(\d+)(/notes)?", sub)
        found = [i for i in p.issues if one and str(i["iid"]) == one.group(1)]
        if one and not found:
            return 404, {"message": "404 Issue Not Found"}, {}
        if method == "POST" and one and one.group(2):  # POST /projects/:id/issues/:iid/notes
            found[0].setdefault("notes", []).append(body["body"])
            return 201, {"id": len(found[0]["notes"]), "body": body["body"]}, {}
        if method == "PUT" and one and not one.group(2):  # PUT /projects/:id/issues/:iid
            issue = found[0]
            if "description" in body:
                issue["description"] = body["description"]
            if body.get("state_event") in ("close", "reopen"):
                issue["state"] = "closed" if body["state_event"] == "close" else "opened"
            return 200, issue, {}
        if method == "POST" and sub == "/repository/branches":
            p.branches.add(body["branch"])
            p.files[body["branch"]] = set(p.files.get(body["ref"], set()))
            return 201, {**canned("branch"), "name": body["branch"]}, {}
        if method == "DELETE" and sub.startswith("/repository/branches/"):
            name = unquote(sub.removeprefix("/repository/branches/"))
            if name not in p.branches:
                return 404, {"message": "404 Branch Not Found"}, {}
            p.branches.discard(name)
            p.files.pop(name, None)
            self.branch_deleted = True
            return 204, None, {}
        if method == "POST" and sub == "/repository/commits":
            return self._commit(p, body)
        if method == "POST" and sub == "/merge_requests":
            target = self.projects.get(int(body.get("target_project_id") or p.id))
            if target is None or body["source_branch"] not in p.branches:
                return 404, {"message": "404 Branch Not Found"}, {}
            mr = {
                **canned("merge_request"),
                "project_id": target.id,
                "source_project_id": p.id,
                "target_project_id": target.id,
                "source_branch": body["source_branch"],
                "target_branch": body["target_branch"],
                "title": body["title"],
            }
            target.open_merge_requests[(p.id, body["source_branch"])] = mr
            return 201, mr, {}
        return 404, {"message": f"404 {sub} not replayed"}, {}

    def _commit(self, p: Project, body: dict):
        branch = body["branch"]
        if branch not in p.branches:
            origin = self._project(str(body.get("start_project", p.id))) or p
            start = body.get("start_branch")
            if start not in origin.branches:
                return 400, {"message": "You can only create or edit files when you are on a branch"}, {}
            p.branches.add(branch)
            p.files[branch] = set(origin.files.get(start, set()))
        files = p.files.setdefault(branch, set())
        for action in body["actions"]:
            path = action["file_path"]
            if action["action"] == "create" and path in files:
                return 400, {"message": f"A file with this name already exists: {path}"}, {}
            if action["action"] in ("update", "delete") and path not in files:
                return 400, {"message": f"A file with this name doesn't exist: {path}"}, {}
        for action in body["actions"]:
            (files.discard if action["action"] == "delete" else files.add)(action["file_path"])
        return 201, canned("commit"), {}

    # -- OAuth (authorization code with PKCE) ----------------------------------
    def _authorize(self, query: dict):
        one = {k: v[0] for k, v in query.items()}
        code = f"code-{len(self.oauth_codes) + 1}"
        self.oauth_codes[code] = one
        target = f"{one['redirect_uri']}?{urlencode({'code': code, 'state': one.get('state', '')})}"
        return 302, None, {"Location": target}

    def _token(self, body: dict | None):
        body = body or {}
        grant = self.oauth_codes.pop(body.get("code", ""), None)
        if grant is None:
            return (
                400,
                {
                    "error": "invalid_grant",
                    "error_description": "The provided authorization grant is invalid, expired or revoked.",
                },
                {},
            )
        verifier = body.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if (
            grant.get("code_challenge_method") != "S256"
            or challenge != grant.get("code_challenge")
            or body.get("client_id") != grant.get("client_id")
        ):
            return 400, {"error": "invalid_grant", "error_description": "The code verifier does not match the challenge."}, {}
        if body.get("redirect_uri") != grant.get("redirect_uri") or body.get("grant_type") != "authorization_code":
            return 400, {"error": "invalid_grant", "error_description": "redirect_uri or grant_type differ."}, {}
        token = f"oauth-{len(self.tokens)}"
        self.tokens.add(token)
        return (
            200,
            {
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": 7200,
                "refresh_token": "r",
                "scope": "api",
                "created_at": 1,
            },
            {},
        )


class Server:
    """Serves whichever FakeGitLab `fake` is at the moment, on 127.0.0.1."""

    def __init__(self, fake: FakeGitLab | None = None):
        self.fake = fake or FakeGitLab()
        holder = self

        class Handler(BaseHTTPRequestHandler):
            def _cors(self):
                self.send_header("Access-Control-Allow-Origin", "*")
                self.send_header("Access-Control-Expose-Headers", "X-Next-Page, X-Page, X-Total")

            def do_OPTIONS(self):  # CORS preflight, as GitLab answers it for /api/* and /oauth/token
                self.send_response(204)
                self._cors()
                self.send_header("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE, OPTIONS")
                self.send_header("Access-Control-Allow-Headers", "Authorization, Content-Type, Private-Token")
                self.send_header("Access-Control-Max-Age", "0")
                self.end_headers()

            def _any(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                kind = self.headers.get("Content-Type", "")
                body = None
                if raw and kind.startswith("application/json"):
                    body = json.loads(raw)
                elif raw and kind.startswith("application/x-www-form-urlencoded"):
                    body = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, payload, extra = holder.fake.respond(self.command, self.path, body, headers)
                if status == -1:  # a network failure: no answer at all
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                data = b"" if payload is None else json.dumps(payload).encode()
                self.send_response(status)
                self._cors()
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in extra.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _any

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.fake.base_url = self.url  # for the absolute links GitLab's paging headers carry
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
