"""Characters that text from a merge request may not carry, and how to print what it has.

A name with a newline injects lines into a log, a report or CODEOWNERS; a control
character makes an Atom feed ill-formed for every subscriber; a right-to-left override or a
zero-width space makes two names look alike, or text read differently from how it is
stored. Metadata and folder names refuse them (rule DL-024); everything written for a person or a
machine goes through `printable` or the writer's own escaping as well.
"""

from __future__ import annotations

from pathlib import Path

import re
import unicodedata

# Refused in every text value: C0 controls but tab and newline, DEL, C1 controls, the
# bidirectional overrides, embeddings, isolates and marks, line and paragraph separators.
_ANYWHERE = "\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029"
# Also refused in one-line values (names, summaries, keywords, folder names): tab, newline,
# and the zero-width characters.
_IN_LINE = _ANYWHERE + "\t\n\u200b-\u200d\u2060\ufeff"

UNSAFE_ANYWHERE = re.compile(f"[{_ANYWHERE}]")
UNSAFE_IN_LINE = re.compile(f"[{_IN_LINE}]")
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def describe(char: str) -> str:
    """`U+202E (RIGHT-TO-LEFT OVERRIDE)`."""
    name = unicodedata.name(char, "") or {"\t": "TAB", "\n": "NEWLINE"}.get(char, "control character")
    return f"U+{ord(char):04X} ({name})"


def first_unsafe(value: str, one_line: bool) -> tuple[int, str] | None:
    """(0-based position, character) of the first refused character, if any."""
    match = (UNSAFE_IN_LINE if one_line else UNSAFE_ANYWHERE).search(value)
    return (match.start(), match.group()) if match else None


def printable(value: object) -> str:
    """`value` as one line of text with every refused character shown as `\\uXXXX`:
    safe to write into a log line, a Markdown report or a terminal."""
    return UNSAFE_IN_LINE.sub(lambda m: f"\\u{ord(m.group()):04x}", str(value))


def xml_text(value: str) -> str:
    """`value` without the characters XML 1.0 cannot hold (ElementTree writes them as they are)."""
    return _NOT_XML.sub("\ufffd", value)


def shown_path(path: Path) -> str:
    """A path as a person reads it: relative to the working directory when below it, else absolute."""
    path = path.absolute()
    return str(path.relative_to(Path.cwd())) if path.is_relative_to(Path.cwd()) else str(path)


# ------------------------------------------------------------------------ Markdown for GitLab
# Text from a merge request, an advisory database or a container's output reaches GitLab as
# Markdown (moderation reports, the maintainers' issues). There a line may be a quick action
# (`/close`, `/assign @x`), `@name` notifies a person and `[x](y)` is a link: such text is
# only ever written as a code span (`md_code`), a fenced block (`md_block`) or a checked
# link (`md_link`), where GitLab renders and runs none of it.
_SAFE_URL = re.compile(r"^https?://[A-Za-z0-9.-]+(?::\d{1,5})?(?:/[A-Za-z0-9._~%!$&'*+,;=:@/?#-]*)?$")


def md_code(value: object, limit: int = 300) -> str:
    """A Markdown code span that holds `value` whatever it contains: one line, invisible
    characters shown escaped, at most `limit` characters, fenced with more backticks than
    it has in a row."""
    text = printable(value)
    text = f"{text[: limit - 1]}…" if len(text) > limit else text
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def md_block(value: object, limit: int = 4000) -> list[str]:
    """Lines of a fenced code block holding `value` (its last `limit` characters), whatever
    backticks or tildes it holds: a fence longer than any run inside it."""
    text = UNSAFE_ANYWHERE.sub(lambda m: f"\\u{ord(m.group()):04x}", str(value))[-limit:]
    fence = "`" * max(3, max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    return [fence, *text.splitlines(), fence]


def md_link(label: object, url: object) -> str:
    """`[label](url)` when `url` is a plain http(s) address, else both as code."""
    url = str(url)
    if _SAFE_URL.match(url) and len(url) <= 500:
        return f"[{md_code(label, 120)}]({url})"
    return f"{md_code(label, 120)} ({md_code(url, 200)})"
