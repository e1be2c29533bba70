"""A release record's payload: an in-toto Statement v1 with a SLSA provenance v1 predicate.

The subject is the image (repository and digest, with the tag it was pushed under). The
build definition names the datalab, its version and build number, the source commit and
merge request, and the approved bases it was built on. The run details name the pipeline,
and carry as byproducts the chart (OCI reference and digest), the SBOM's digest and the
result of each check. The shape is schemas/release-record.schema.json.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache

import jsonschema

from sciapps.resources import schemas_dir

SCHEMA_FILE = "release-record.schema.json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://slsa.dev/provenance/v1"
BUILD_TYPE = "https://sciapps.datalabs.esa.int/release/v1"
SBOM_MEDIA_TYPE = "application/vnd.cyclonedx+json"


@cache
def _validators():
    """(compiled fast check, jsonschema for the message): a store build judges every record."""
    import jsonschema_rs

    with open(schemas_dir() / SCHEMA_FILE, encoding="utf-8") as fh:
        schema = json.load(fh)
    return jsonschema_rs.validator_for(schema), jsonschema.Draft202012Validator(schema)


@dataclass(frozen=True)
class Chart:
    uri: str  # oci://<host>/charts/<id>
    version: str
    digest: str  # the chart's OCI manifest digest, sha256:...
    package_sha256: str  # of the packaged .tgz (Helm's index digest)


@dataclass(frozen=True)
class Release:
    """What a verified record says, flat."""

    datalab: str
    version: str
    build: int
    repository: str  # <registry>/<id>
    tag: str
    digest: str  # sha256:...
    bases: tuple[tuple[str, str], ...]  # (name, sha256:...)
    chart: Chart | None
    sbom: str | None  # sha256:... of the CycloneDX SBOM attached beside the record
    checks: dict  # {stage: {status, summary, finished}}
    commit: str
    repository_url: str
    merge_request: str | None
    pipeline: str
    published: str  # ISO 8601

    @property
    def image(self) -> str:
        """The image by digest: what a chart, a launch and a paper name."""
        return f"{self.repository}@{self.digest}"

    @property
    def key(self) -> str:
        return self.digest.removeprefix("sha256:")


def statement(
    *,
    datalab: str,
    version: str,
    build: int,
    repository: str,
    tag: str,
    digest: str,
    bases: list[tuple[str, str, str]],
    chart: Chart | None,
    sbom: str | None,
    checks: dict,
    source_repository: str,
    commit: str,
    merge_request: str | None,
    builder: str,
    pipeline: str,
    started: str | None,
    published: str,
    sciapps_version: str,
) -> dict:
    """The statement of one release; `bases` are (name, reference, sha256:...)."""
    byproducts: list[dict] = []
    if chart is not None:
        byproducts.append(
            {
                "name": "chart",
                "uri": chart.uri,
                "digest": {"sha256": chart.digest.removeprefix("sha256:")},
                "annotations": {"version": chart.version, "package_sha256": chart.package_sha256},
            }
        )
    if sbom is not None:
        byproducts.append({"name": "sbom", "mediaType": SBOM_MEDIA_TYPE, "digest": {"sha256": sbom.removeprefix("sha256:")}})
    for stage, result in checks.items():
        byproducts.append(
            {"name": f"check:{stage}", "annotations": {k: str(result[k])[:300] for k in ("status", "summary", "finished")}}
        )
    metadata = {"invocationId": pipeline, "finishedOn": published}
    if started:
        metadata["startedOn"] = started
    return {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": repository, "digest": {"sha256": digest.removeprefix("sha256:")}, "annotations": {"tag": tag}}],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "buildDefinition": {
                "buildType": BUILD_TYPE,
                "externalParameters": {
                    "datalab": datalab,
                    "version": version,
                    "build": build,
                    "source": {"repository": source_repository, "commit": commit},
                    "mergeRequest": merge_request,
                },
                "internalParameters": {"sciapps": sciapps_version},
                "resolvedDependencies": [
                    {"name": name, "uri": ref, "digest": {"sha256": d.removeprefix("sha256:")}} for name, ref, d in bases
                ],
            },
            "runDetails": {"builder": {"id": builder}, "metadata": metadata, "byproducts": byproducts},
        },
    }


class MalformedRecord(ValueError):
    pass


def release_of(data: dict) -> Release:
    """The `Release` a statement describes; MalformedRecord (one sentence) when it is not one."""
    fast, explaining = _validators()
    error = None if fast.is_valid(data) else jsonschema.exceptions.best_match(explaining.iter_errors(data))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "the statement"
        raise MalformedRecord(f"{where}: {error.message[:200]}")
    subject = data["subject"][0]
    definition = data["predicate"]["buildDefinition"]
    run = data["predicate"]["runDetails"]
    params = definition["externalParameters"]
    chart, sbom, checks = None, None, {}
    for item in run["byproducts"]:
        if item["name"] == "chart":
            chart = Chart(
                item["uri"],
                item["annotations"]["version"],
                "sha256:" + item["digest"]["sha256"],
                item["annotations"]["package_sha256"],
            )
        elif item["name"] == "sbom":
            sbom = "sha256:" + item["digest"]["sha256"]
        else:
            checks[item["name"].removeprefix("check:")] = dict(item["annotations"])
    return Release(
        datalab=params["datalab"],
        version=params["version"],
        build=params["build"],
        repository=subject["name"],
        tag=subject["annotations"]["tag"],
        digest="sha256:" + subject["digest"]["sha256"],
        bases=tuple((d["name"], "sha256:" + d["digest"]["sha256"]) for d in definition["resolvedDependencies"]),
        chart=chart,
        sbom=sbom,
        checks=checks,
        commit=params["source"]["commit"],
        repository_url=params["source"]["repository"],
        merge_request=params["mergeRequest"],
        pipeline=run["metadata"]["invocationId"],
        published=run["metadata"]["finishedOn"],
    )
