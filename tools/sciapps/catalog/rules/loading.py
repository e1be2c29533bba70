"""Rules about reading datalab.yaml at all. When one fires, no other metadata rule runs."""

from __future__ import annotations

from typing import Iterator

from sciapps.catalog.rules.base import Context, Finding, Rule


class _LoadRule(Rule):
    """Reports the loader's problem of kind `kind`."""

    kind: str = ""
    needs_metadata = False

    def check(self, lab, ctx: Context) -> Iterator[Finding]:
        problem = lab.load_problem
        if problem is not None and problem.kind == self.kind:
            yield self.finding(lab, problem.message, line=problem.line or (1 if lab.text else None))


class MissingMetadata(_LoadRule):
    """The datalab has no datalab.yaml

    Every folder under `datalabs/` is a datalab and must describe itself in a regular
    file named `datalab.yaml` (not a symlink). Create one with
    `sciapps new ID --type jupyterlab`, or move the folder out of `datalabs/`.
    """

    id = "DL-001"
    kind = "missing"
    hint = "run `sciapps new <id> --type jupyterlab` to write a datalab.yaml, or move the folder out of datalabs/"


class YamlSyntaxError(_LoadRule):
    """datalab.yaml is not valid YAML

    The file must parse as one YAML document. The line named is where the parser gave
    up; the mistake is often just above it (a missing `:`, a tab used for indentation,
    an unclosed quote or bracket). Keys must be text: quote keys such as `yes` or `1`.
    """

    id = "DL-002"
    kind = "syntax"
    hint = "fix the YAML at that line; indent with spaces, quote values containing ': ' or '#'"


class DuplicateKey(_LoadRule):
    """A key appears twice in the same mapping

    YAML readers keep only the last of two equal keys, so half of what was written is
    silently lost. Merge the two entries into one.
    """

    id = "DL-003"
    kind = "duplicate-key"
    hint = "keep one of the two keys and merge their values"


class UnsafeYaml(_LoadRule):
    """datalab.yaml expands to an unreasonable size or depth

    Anchors and aliases (`&a`, `*a`) that refer to each other can make a few lines expand
    to billions of values (an "alias bomb"), and very deep nesting exhausts readers.
    Metadata never needs either: write values out plainly.
    """

    id = "DL-004"
    kind = "unsafe"
    hint = "write the values out instead of repeating aliases; keep nesting shallow"


class NotADatalabFolder(_LoadRule):
    """Something in the catalog folder is not a datalab folder

    Everything directly in `datalabs/` is a folder named after a datalab's id that holds
    its `datalab.yaml`. A file, a symlink or anything else there is refused, so that nothing
    reaches the store, the pipeline or the review without being checked. Move notes to the
    repository's README, and datalab files into their datalab's folder.
    """

    id = "DL-009"
    kind = "not-a-folder"
    hint = "move it into a datalab's folder, or remove it from datalabs/"

    def check(self, lab, ctx: Context) -> Iterator[Finding]:
        if lab.load_problem is not None and lab.load_problem.kind == self.kind:
            yield self.finding(lab, lab.load_problem.message, file=".", line=None)


class ExplicitYamlTag(_LoadRule):
    """datalab.yaml uses an explicit YAML tag

    Tags such as `!!binary`, `!!set`, `!!timestamp` or `!something` turn a value into bytes,
    sets, dates or objects, which the schema, JSON and the store cannot hold. Metadata is
    plain text, numbers, true/false, lists and mappings:

    ```yaml
    updated: "2026-02-03"   # not: updated: !!timestamp 2026-02-03
    ```
    """

    id = "DL-008"
    kind = "tag"
    hint = "remove the tag (`!!binary`, `!!set`, `!foo`, …) and write the value as plain text, a list or a mapping"


class NotUtf8Text(_LoadRule):
    """datalab.yaml is not UTF-8 text

    The file must be plain UTF-8 text. Binary data, or text saved in another encoding
    (Latin-1, UTF-16), is refused with the line of the first bad byte.
    """

    id = "DL-005"
    kind = "encoding"
    hint = "save the file as UTF-8 text (in most editors: Save with encoding > UTF-8)"


class MetadataTooLarge(_LoadRule):
    """datalab.yaml is larger than the limit

    Metadata is a page of text; the limit (`limits.metadata_kb` in sciapps.yaml) keeps
    validation fast and the store's pages small. Long prose belongs in a notebook or the
    documentation link.
    """

    id = "DL-006"
    kind = "too-large"
    hint = "shorten the description; link to longer documentation with links.documentation"


class NotAMapping(_LoadRule):
    """datalab.yaml is empty or is not a mapping of fields

    The document must be a mapping such as:

    ```yaml
    id: my-datalab
    name: My datalab
    ```
    """

    id = "DL-007"
    kind = "not-mapping"
    hint = "write `field: value` lines; `sciapps new` scaffolds a complete file"


class ValueReadAsAnother(Rule):
    """A value in datalab.yaml is read as another value than the one written

    YAML reads some unquoted values as something else: `0123456701` is the octal number
    21913025, `1.10` is the number 1.1, `1_000` is 1000, and `yes`, `no`, `on` and `off` are
    true and false (to YAML 1.1 only: JSON, the store and YAML 1.2 readers see text). Every
    later check would then judge a value the author never wrote, so this is reported
    first, with each such value's line. Quote an id, a version or a word; write `true` or
    `false` for a yes/no; write a number as it is meant (`1.1`).
    """

    id = "DL-072"
    needs_metadata = False
    hint = 'put it in quotes (`obsid: "0123456701"`, `version: "1.10"`), or write true/false for a yes/no'

    def check(self, lab, ctx: Context) -> Iterator[Finding]:
        from sciapps import yamlio

        problem = lab.load_problem
        if problem is None or problem.kind != "reread" or lab.text is None:
            return
        for reread in yamlio.rereads(lab.text):
            yield self.finding(lab, reread.sentence(), line=reread.line)
