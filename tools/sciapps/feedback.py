"""`sciapps feedback-sync`: the store's feedback, read from the catalog's GitLab issues.

The store's "Give feedback" link opens a new issue on the catalog's project, prefilled
with the datalab's scoped label (`datalab::<id>`, a quick action in the description) and
a "Kind:" line. Moderators may correct the label, or add `feedback::praise`,
`feedback::problem` or `feedback::idea`; labels win over the text. Every issue with
exactly one `datalab::` label naming a datalab id becomes one item of the export
(schemas/feedback-export.schema.json) that the store build shows.

GitLab is read with python-gitlab, page by page, at most `MAX_ISSUES` issues. When it
does not answer, nothing is written: the store builds with the last export and says how
old it is.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import jsonschema

from sciapps.config import Config
from sciapps.errors import SciAppsError
from sciapps.resources import schemas_dir
from sciapps.safefiles import write_atomically
from sciapps.schema import is_datalab_id

LABEL_PREFIX = "datalab::"
KIND_PREFIX = "feedback::"
KINDS = ("praise", "problem", "idea")
MAX_ISSUES = 20_000  # a bound on what one sync reads; a catalog with more feedback keeps the newest
MAX_COMMENT = 2000  # the export schema's bound
TIMEOUT_S = 20
MAX_EXPORT_BYTES = 64 * 1024 * 1024  # what the store build reads of an export (MAX_ISSUES items fit)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_TEMPLATE_LINE = re.compile(r"^(Datalab: .*|Kind: .*|/label .*|What happened, or what would you like\?|Steps to see it.*|1\. ?)$")


def label_of(datalab_id: str) -> str:
    """The scoped label that ties an issue to a datalab."""
    return f"{LABEL_PREFIX}{datalab_id}"


def _kind(labels: list[str], description: str) -> str:
    named = {label[len(KIND_PREFIX) :] for label in labels if label.startswith(KIND_PREFIX)} & set(KINDS)
    if len(named) == 1:
        return named.pop()
    line = next((text for text in description.splitlines() if text.startswith("Kind:")), "")
    left = [k for k in KINDS if re.search(rf"\b{k}\b", line, re.IGNORECASE)]
    return left[0] if len(left) == 1 else "idea"  # the template lists all three until one is kept


def _comment(description: str) -> str:
    """What the person wrote: the description without the template's lines, plain text."""
    kept = [text for text in description.splitlines() if not _TEMPLATE_LINE.match(text.strip())]
    text = _CONTROL.sub("", "\n".join(kept)).strip()
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text if len(text) <= MAX_COMMENT else text[: MAX_COMMENT - 1] + "…"


def item_of(issue: dict) -> dict | None:
    """One export item from one issue (GitLab's JSON), or None when it is not feedback on one datalab."""
    labels = [label for label in issue.get("labels") or [] if isinstance(label, str)]
    ids = {label[len(LABEL_PREFIX) :] for label in labels if label.startswith(LABEL_PREFIX)}
    if len(ids) != 1 or not is_datalab_id(next(iter(ids))):
        return None
    description = issue.get("description") if isinstance(issue.get("description"), str) else ""
    item = {"datalab": ids.pop(), "kind": _kind(labels, description), "date": str(issue.get("created_at") or "")[:10]}
    author = issue.get("author").get("name") if isinstance(issue.get("author"), dict) else None
    if isinstance(author, str) and author.strip():
        item["author"] = _CONTROL.sub("", author).strip()[:100]
    comment = _comment(description)
    if comment:
        item["comment"] = comment
    url = issue.get("web_url")
    if isinstance(url, str) and re.match(r"^https?://", url):
        item["url"] = url
    return item


def _validator() -> jsonschema.Draft202012Validator:
    with open(schemas_dir() / "feedback-export.schema.json", encoding="utf-8") as fh:
        return jsonschema.Draft202012Validator(json.load(fh))


def sync(config: Config, token: str | None, out: Path | None = None, log: Callable[[str], None] = print) -> Path:
    """Read the feedback issues and write the export (atomically); return its path."""
    import gitlab
    import requests

    settings = config.gitlab
    if settings is None:
        raise SciAppsError("sciapps.yaml has no gitlab: project to read feedback from", "set gitlab.url and gitlab.project")
    out = out or config.path_of(config.feedback_export)
    client = gitlab.Gitlab(settings.url, private_token=token or None, timeout=TIMEOUT_S, retry_transient_errors=False)
    items, read = [], 0
    try:
        issues = client.projects.get(settings.project, lazy=True).issues.list(
            iterator=True, per_page=100, state="all", order_by="created_at", sort="desc"
        )
        for issue in issues:
            read += 1
            if read > MAX_ISSUES:
                log(f"read the newest {MAX_ISSUES:,} issues; older feedback is left out")
                break
            item = item_of(issue.asdict())
            if item is not None:
                items.append(item)
    except gitlab.exceptions.GitlabAuthenticationError:
        raise SciAppsError(
            f"{settings.url} refused the token for {settings.project}'s issues",
            "set SCIAPPS_FEEDBACK_TOKEN to a token with the read_api scope",
        ) from None
    except (gitlab.exceptions.GitlabError, requests.exceptions.RequestException) as exc:
        kept = f"; the store keeps the last export ({_age(out)})" if out.is_file() else ""
        raise SciAppsError(
            f"{settings.url} did not give {settings.project}'s issues ({type(exc).__name__}){kept}",
            "check that GitLab is reachable from this runner, then run `sciapps feedback-sync` again",
        ) from None
    validator = _validator()
    items = [i for i in items if not list(validator.iter_errors({"exported": "x", "items": [i]}))]
    items.sort(key=lambda i: (i["datalab"], i["date"]))
    export = {"exported": datetime.now(timezone.utc).isoformat(timespec="seconds"), "items": items}
    write_atomically(out, json.dumps(export, indent=1, ensure_ascii=False) + "\n")
    log(f"feedback: {len(items)} item(s) on {len({i['datalab'] for i in items})} datalab(s) from {read} issue(s) -> {out}")
    return out


def _age(path: Path) -> str:
    try:
        if path.stat().st_size > MAX_EXPORT_BYTES:
            return "too large to read"
        exported = json.loads(path.read_text(encoding="utf-8")).get("exported", "")
        return f"exported {exported}"
    except (OSError, ValueError, AttributeError):
        return "unreadable"
