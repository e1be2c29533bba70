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
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

RESPONSES = Path(__file__).parent / "gitlab"
PROJECT_ID = 42
PROJECT = f"/api/v4/projects/{PROJECT_ID}"
PROJECT_PATH = "/api/v4/projects/datalabs%2Fsciapps"


def canned(name: str) -> dict:
    return json.loads((RESPONSES / f"{name}.json").read_text())


class FakeGitLab:
    """Replays GitLab's documented responses; records every request.

    fail: {"METHOD route-suffix": status or "drop"} answers that call with an error status,
    or closes the connection without an answer (a network failure mid-submission).
    """

    def __init__(self, merge_request_status=201, token_valid=True, open_merge_request=False, branch_exists=False,
                 fail: dict | None = None, tokens=("glpat-test",), existing_files=()):
        self.requests: list[tuple[str, str, dict | None, dict]] = []
        self.token_valid = token_valid
        self.tokens = set(tokens)
        self.fail = dict(fail or {})
        if merge_request_status != 201:
            self.fail["POST merge_requests"] = merge_request_status
        self.branches = {"main"}
        self.files: dict[str, set[str]] = {"main": set(existing_files)}
        if branch_exists:
            self.branches.add("datalab/gaia-dr3-hrd-1.2.0")
        self.open_merge_requests: dict[str, dict] = {}
        if open_merge_request:
            self.open_merge_requests["datalab/gaia-dr3-hrd-1.2.0"] = canned("merge_request")
        self.branch_deleted = False
        self.oauth_codes: dict[str, dict] = {}

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
            return failure, {"message": ["Another open merge request already exists for this source branch"] if "merge_requests" in route else f"{failure} refused"}, {}
        if method == "GET" and route == "/api/v4/user":
            return 200, {"id": 7, "username": "mlindqvist", "name": "Marta Lindqvist", "state": "active"}, {}
        if method == "GET" and route in (PROJECT_PATH, PROJECT):
            return 200, canned("project"), {}
        if method == "GET" and route.startswith(f"{PROJECT}/repository/files/"):
            file_path = unquote(route.removeprefix(f"{PROJECT}/repository/files/"))
            ref = query.get("ref", ["main"])[0]
            if file_path in self.files.get(ref, set()):
                return 200, {"file_path": file_path, "ref": ref, "encoding": "base64", "content": ""}, {}
            return 404, {"message": "404 File Not Found"}, {}
        if method == "GET" and route == f"{PROJECT}/repository/tree":
            ref = query.get("ref", ["main"])[0]
            folder = query.get("path", [""])[0].rstrip("/") + "/"
            blobs = sorted(p for p in self.files.get(ref, set()) if p.startswith(folder))
            page = int(query.get("page", ["1"])[0])
            per_page = int(query.get("per_page", ["20"])[0])
            chunk = blobs[(page - 1) * per_page: page * per_page]
            more = page * per_page < len(blobs)
            items = [{"id": f"{i:040x}", "name": p.rsplit("/", 1)[-1], "type": "blob", "path": p, "mode": "100644"} for i, p in enumerate(chunk)]
            return 200, items, {"X-Next-Page": str(page + 1) if more else "", "X-Page": str(page)}
        if method == "GET" and route == f"{PROJECT}/merge_requests":
            source = query.get("source_branch", [None])[0]
            found = [mr for branch, mr in self.open_merge_requests.items() if source in (None, branch)]
            return 200, found, {}
        if method == "GET" and route.startswith(f"{PROJECT}/repository/branches/"):
            name = unquote(route.removeprefix(f"{PROJECT}/repository/branches/"))
            return (200, {**canned("branch"), "name": name}, {}) if name in self.branches else (404, {"message": "404 Branch Not Found"}, {})
        if method == "POST" and route == f"{PROJECT}/repository/branches":
            self.branches.add(body["branch"])
            self.files[body["branch"]] = set(self.files.get(body["ref"], set()))
            return 201, {**canned("branch"), "name": body["branch"]}, {}
        if method == "DELETE" and route.startswith(f"{PROJECT}/repository/branches/"):
            name = unquote(route.removeprefix(f"{PROJECT}/repository/branches/"))
            if name not in self.branches:
                return 404, {"message": "404 Branch Not Found"}, {}
            self.branches.discard(name)
            self.files.pop(name, None)
            self.branch_deleted = True
            return 204, None, {}
        if method == "POST" and route == f"{PROJECT}/repository/commits":
            return self._commit(body)
        if method == "POST" and route == f"{PROJECT}/merge_requests":
            mr = {**canned("merge_request"), "source_branch": body["source_branch"], "target_branch": body["target_branch"], "title": body["title"]}
            self.open_merge_requests[body["source_branch"]] = mr
            return 201, mr, {}
        return 404, {"message": f"404 {route} not replayed"}, {}

    def _commit(self, body: dict):
        branch = body["branch"]
        if branch not in self.branches:
            start = body.get("start_branch")
            if start not in self.branches:
                return 400, {"message": "You can only create or edit files when you are on a branch"}, {}
            self.branches.add(branch)
            self.files[branch] = set(self.files.get(start, set()))
        files = self.files.setdefault(branch, set())
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
            return 400, {"error": "invalid_grant", "error_description": "The provided authorization grant is invalid, expired or revoked."}, {}
        verifier = body.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if grant.get("code_challenge_method") != "S256" or challenge != grant.get("code_challenge") or body.get("client_id") != grant.get("client_id"):
            return 400, {"error": "invalid_grant", "error_description": "The code verifier does not match the challenge."}, {}
        if body.get("redirect_uri") != grant.get("redirect_uri") or body.get("grant_type") != "authorization_code":
            return 400, {"error": "invalid_grant", "error_description": "redirect_uri or grant_type differ."}, {}
        token = f"oauth-{len(self.tokens)}"
        self.tokens.add(token)
        return 200, {"access_token": token, "token_type": "Bearer", "expires_in": 7200, "refresh_token": "r", "scope": "api", "created_at": 1}, {}


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
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
