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
