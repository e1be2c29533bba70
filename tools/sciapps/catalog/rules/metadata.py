"""Rules that relate fields of datalab.yaml to each other."""

from __future__ import annotations

from typing import Iterator

from sciapps.catalog.rules.base import Context, Finding, Rule, WARNING, rule_by_id
from sciapps.catalog.rules.schema import SCHEMA_RULES

# The description `sciapps new` writes for its author to replace (DL-073 refuses it past a draft)
PLACEHOLDER_DESCRIPTION = "Describe what the datalab does, which data it uses and what a scientist gets out of it."


class ChangelogOutOfDate(Rule):
    """The newest changelog entry is not the current version

    The changelog lists versions newest first, and the store shows its top entry as "what
    is new". When `version` is raised, add an entry for it at the top:

    ```yaml
    changelog:
      - version: 1.3.0
        date: 2026-11-25
        changes: [What changed]
    ```
    """

    id = "DL-060"
    severity = WARNING
    requires = SCHEMA_RULES
    exceptable = True

    def check(self, lab, ctx: Context) -> Iterator[Finding]:
        changelog = lab.metadata.get("changelog")
        version = lab.metadata["version"]
        if changelog and changelog[0]["version"] != version:
            yield self.finding(
                lab,
                f"the newest entry is {changelog[0]['version']!r} but version is {version!r}",
                path=("changelog", 0, "version"),
                hint=f"add an entry for {version} at the top of changelog",
            )


class DuplicateMount(Rule):
    """Two data assets are mounted at the same path

    Each data asset appears at its own `mount` path inside the container; two at one path
    would hide each other.
    """

    id = "DL-061"
    requires = SCHEMA_RULES
    hint = "give each data asset its own mount path under /data/"

    def check(self, lab, ctx: Context) -> Iterator[Finding]:
        seen: dict[str, int] = {}
        for index, asset in enumerate(lab.metadata.get("data_assets") or []):
            mount = asset["mount"].rstrip("/")
            if mount in seen:
                yield self.finding(
                    lab, f"{mount} is already the mount of data_assets[{seen[mount]}]", path=("data_assets", index, "mount")
                )
            seen.setdefault(mount, index)


class UndeclaredDataMission(Rule):
    """A data asset comes from a mission the datalab does not list

    The store groups datalabs by `missions`; a datalab that reads a mission's data should
    be found under that mission too.
    """

    id = "DL-062"
    severity = WARNING
    requires = SCHEMA_RULES
    exceptable = True

    def check(self, lab, ctx: Context) -> Iterator[Finding]:
        missions = set(lab.metadata.get("missions") or [])
        for index, asset in enumerate(lab.metadata.get("data_assets") or []):
            if asset["mission"] not in missions:
                yield self.finding(
                    lab,
                    f"data from {asset['mission']!r}, which missions does not list",
                    path=("data_assets", index, "mission"),
                    hint=f"add {asset['mission']} to missions",
                )


class UnknownCollection(Rule):
    """A data asset names a collection the catalog does not mount

    A datalab reads mission data only from the collections the catalog's operators made
    mountable: `collections:` in sciapps.yaml lists them per mission, each with the volume
    claim the cluster mounts it from (read-only). Any other name could reach a volume claim
    that is not mission data, so it is refused; ask the catalog's operators to add a
    collection that is missing.
    """

    id = "DL-064"
    requires = SCHEMA_RULES

    def check(self, lab, ctx: Context) -> Iterator[Finding]:
        listed = ctx.config.collections
        for index, asset in enumerate(lab.metadata.get("data_assets") or []):
            mission, collection = asset["mission"], asset["collection"]
            known = listed.get(mission) or {}
            if collection in known:
                continue
            if known:
                hint = f"use one of the {mission} collections this catalog mounts: {', '.join(sorted(known)[:20])}"
            elif listed:
                hint = (
                    f"this catalog mounts no {mission} data; missions with collections: {', '.join(sorted(listed)[:20])} "
                    "(collections: in sciapps.yaml)"
                )
            else:
                hint = "this catalog mounts no mission data yet: its operators list collections in sciapps.yaml (collections:)"
            yield self.finding(
                lab,
                f"{collection!r} is not a {mission} collection this catalog mounts",
                path=("data_assets", index, "collection"),
                hint=hint,
            )


class InvalidException(Rule):
    """An exception names a rule that does not exist or cannot be excepted

    `exceptions:` excuses a datalab from rules marked *may be excepted* in the rules
    reference (size limits and warnings), each with a reason a moderator reviews. Rules
    that protect users (paths, images, base images, schema) cannot be excepted.
    """

    id = "DL-063"
    requires = SCHEMA_RULES

    def check(self, lab, ctx: Context) -> Iterator[Finding]:
        for index, exception in enumerate(lab.metadata.get("exceptions") or []):
            rule = rule_by_id(exception["rule"])
            if rule is None:
                yield self.finding(
                    lab, f"{exception['rule']} is not a rule", path=("exceptions", index, "rule"), hint="see `sciapps rules`"
                )
            elif not rule.exceptable:
                yield self.finding(
                    lab,
                    f"{rule.id} {rule.name()} cannot be excepted",
                    path=("exceptions", index, "rule"),
                    hint="fix the problem instead; only rules marked 'may be excepted' in `sciapps rules` can be",
                )


class PlaceholderDescription(Rule):
    """The description is still the template's placeholder

    `sciapps new` (and the store's Create page) start the description with a sentence
    that asks the author to write one. The store shows the description on the datalab's
    page and a moderator reads it to judge the datalab, so a datalab that is submitted or
    published must say in its own words what it does, which data it uses and what a
    scientist gets out of it. A draft may keep the placeholder.
    """

    id = "DL-073"
    requires = SCHEMA_RULES
    hint = "replace the description with what the datalab does, which data it uses and what a scientist gets out of it"

    def check(self, lab, ctx: Context) -> Iterator[Finding]:
        description = " ".join(str(lab.metadata.get("description", "")).split())
        if lab.metadata.get("status", "draft") != "draft" and PLACEHOLDER_DESCRIPTION in description:
            yield self.finding(
                lab,
                f"the description is the template's placeholder, and the datalab is {lab.metadata.get('status')}",
                path=("description",),
            )
