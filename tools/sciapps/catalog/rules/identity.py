"""Rules about who a datalab is: its id, licence and maintainers."""

from __future__ import annotations

import re
import unicodedata

from functools import cache
from typing import Iterator

from license_expression import get_spdx_licensing

from sciapps.citing import split_name
from sciapps.catalog.rules.base import Context, Finding, Rule
from sciapps.catalog.rules.schema import SCHEMA_RULES
from sciapps.text import describe, first_unsafe


class IdMismatch(Rule):
    """The id differs from the datalab's directory name

    A datalab lives at `datalabs/<id>/`; the id in `datalab.yaml` must be that directory
    name, so links, images and charts named after it always find it. Ids never change once
    published: to rename, archive this datalab and create a new one.
    """

    id = "DL-020"
    requires = SCHEMA_RULES

    def check(self, lab, ctx: Context) -> Iterator[Finding]:
        if lab.metadata["id"] != lab.dir_name:
            yield self.finding(
                lab,
                f"id {lab.metadata['id']!r} differs from the directory name {lab.dir_name!r}",
                path=("id",),
                hint=f"write `id: {lab.dir_name}` or rename the directory to {lab.metadata['id']}",
            )


class DuplicateId(Rule):
    """Two datalabs have the same id

    Ids are unique in the catalog: they name the store page, the image and the chart. This
    fires when two catalogs validated together, or a datalab and its copy, share an id.
    """

    id = "DL-021"
    requires = (*SCHEMA_RULES, IdMismatch)
    hint = "give one of them another id (and directory name)"

    def check(self, lab, ctx: Context) -> Iterator[Finding]:
        # The id equals the directory name (IdMismatch), so the catalog's folder list
        # tells which datalab came first: this works the same in every worker process.
        first = ctx.first_dir.get(lab.dir_name, lab.dir)
        if first != lab.dir:
            yield self.finding(lab, f"id {lab.id!r} is already used by {first}", path=("id",))


@cache
def _licensing():
    return get_spdx_licensing()


@cache
def _check_license(expression: str) -> tuple[str | None, str | None]:
    """(error, canonical form) for an SPDX expression."""
    info = _licensing().validate(expression)
    if info.errors:
        return "; ".join(info.errors), None
    return None, info.normalized_expression


class UnknownLicense(Rule):
    """license is not a valid SPDX licence expression

    Licences are written as SPDX identifiers (https://spdx.org/licenses/) so that the
    store and scanners can read them: `MIT`, `BSD-3-Clause`, `Apache-2.0`,
    `GPL-3.0-or-later`, or an expression such as `MIT OR Apache-2.0`. Names like
    "BSD licence" or "GPL" are refused.
    """

    id = "DL-022"
    requires = SCHEMA_RULES

    def check(self, lab, ctx: Context) -> Iterator[Finding]:
        value = lab.metadata["license"]
        error, canonical = _check_license(value)
        if error:
            yield self.finding(lab, f"{value!r}: {error}", path=("license",), hint="use SPDX ids, e.g. `license: BSD-3-Clause`")
        elif canonical != value:
            yield self.finding(
                lab, f"{value!r} is written {canonical!r} in SPDX", path=("license",), hint=f"write `license: {canonical}`"
            )


def orcid_checksum_ok(orcid: str) -> bool:
    """ISO 7064 MOD 11-2, as ORCID defines its last character."""
    digits = orcid.replace("-", "")
    total = 0
    for ch in digits[:-1]:
        total = (total + int(ch)) * 2
    check = (12 - total % 11) % 11
    return digits[-1] == ("X" if check == 10 else str(check))


class InvalidOrcid(Rule):
    """A maintainer's or an author's ORCID iD has a wrong check digit

    The last character of an ORCID iD is a checksum of the others, so a mistyped iD is
    caught here rather than linking to someone else, or citing them. Copy it from your
    ORCID record.
    """

    id = "DL-023"
    requires = SCHEMA_RULES
    hint = "copy the iD from https://orcid.org (16 characters, e.g. 0000-0002-1825-0097)"

    def check(self, lab, ctx: Context) -> Iterator[Finding]:
        for field in ("maintainers", "authors"):
            for index, person in enumerate(lab.metadata.get(field) or []):
                orcid = person.get("orcid")
                if orcid and not orcid_checksum_ok(orcid):
                    yield self.finding(lab, f"{orcid} fails the ORCID checksum", path=(field, index, "orcid"))


def cited_name(name: str) -> tuple[str, str] | None:
    """(given names, family names) of a full name as a citation carries it: `Lindqvist,
    Marta` or `Marta Lindqvist` (the last word is the family name); None when it is not
    one (a single word, no letter, a control character)."""
    if not isinstance(name, str) or any(unicodedata.category(c) in ("Cc", "Cf", "Co", "Cs") for c in name):
        return None
    given, family = split_name(name)
    if not given or not family or "," in given or not any(c.isalpha() for c in family) or not any(c.isalpha() for c in given):
        return None
    return given, family


class AuthorNameNotCitable(Rule):
    """An author's name cannot be cited as given and family names

    A citation (CITATION.cff, BibTeX, APA) names a person by family name and given
    names. The store reads `Marta Lindqvist` as given names `Marta`, family name
    `Lindqvist`, and `Lindqvist, Marta` the same way; a single word, a name without
    letters or one holding invisible characters cannot be cited.
    """

    id = "DL-074"
    requires = SCHEMA_RULES
    hint = "write the full name, given names then family name (`Marta Lindqvist`), or `Lindqvist, Marta`"

    def check(self, lab, ctx: Context) -> Iterator[Finding]:
        for index, person in enumerate(lab.metadata.get("authors") or []):
            if cited_name(person.get("name")) is None:
                shown = repr(person.get("name"))[:80]
                yield self.finding(lab, f"{shown} is not a name a citation can carry", path=("authors", index, "name"))


DOI = re.compile(r"10\.[0-9]{4,9}/[-._;()/:<>\[\]A-Za-z0-9]+")  # Crossref's pattern for the DOIs it registers


class DoiSyntax(Rule):
    """A DOI is not written as a DOI

    `links.doi` is shown as a link to https://doi.org/ and cited: it must be a DOI
    (`10.` a registrant code of 4 to 9 digits, `/`, a suffix without spaces), without
    `https://doi.org/` or `doi:` before it.
    """

    id = "DL-075"
    requires = SCHEMA_RULES
    hint = "write the DOI alone, e.g. `doi: 10.1051/0004-6361/202243940`"

    def check(self, lab, ctx: Context) -> Iterator[Finding]:
        value = (lab.metadata.get("links") or {}).get("doi")
        if value is None or DOI.fullmatch(value):
            return
        bare = re.sub(r"^(?:https?://(?:dx\.)?doi\.org/|doi:)", "", value, flags=re.IGNORECASE)
        if bare != value and DOI.fullmatch(bare):
            yield self.finding(lab, f"{value!r} is a DOI with a prefix", path=("links", "doi"), hint=f"write `doi: {bare}`")
        else:
            yield self.finding(lab, f"{value[:80]!r} is not a DOI", path=("links", "doi"))


# Values that may run over several lines; every other text value is one line.
MULTILINE = {("description",), ("citation", "text"), ("citation", "bibtex"), ("archived", "reason")}


def _strings(node, path: tuple = ()):
    """(path, text, is a key) for every text key and value of the metadata."""
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(key, str):
                yield path + (key,), key, True
            yield from _strings(value, path + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _strings(value, path + (index,))
    elif isinstance(node, str):
        yield path, node, False


class UnsafeCharacters(Rule):
    """A name or text holds control, bidi-override or zero-width characters

    Such characters are invisible or rearrange what is shown: a newline in a name adds
    lines to logs, reports and CODEOWNERS, a control character breaks the store's Atom
    feed, a right-to-left override or zero-width space makes text read differently from
    what it is. They are refused in every value (and the folder name); newlines and tabs
    are allowed only in `description`, `citation` and `archived.reason`, and zero-width
    joiners only there too. Retype the value, or paste it through a plain-text editor.
    """

    id = "DL-024"
    needs_metadata = False
    hint = "retype the value without invisible characters (control, bidi override, zero-width)"

    def check(self, lab, ctx: Context) -> Iterator[Finding]:
        bad = first_unsafe(lab.dir_name, one_line=True)
        if bad:
            yield self.finding(
                lab,
                f"the folder name has {describe(bad[1])} at character {bad[0] + 1}",
                file=".",
                line=None,
                hint="rename the folder to the datalab's id: lower-case letters, digits and hyphens",
            )
        for path, value, is_key in _strings(lab.metadata or {}):
            bad = first_unsafe(value, one_line=is_key or path not in MULTILINE)
            if bad:
                what = "the key" if is_key else "the value"
                yield self.finding(lab, f"{what} has {describe(bad[1])} at character {bad[0] + 1}", path=path)
