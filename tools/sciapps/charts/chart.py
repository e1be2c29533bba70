"""`sciapps chart`: one Helm chart per datalab, checked the way a cluster would check it.

The shared chart `charts/datalab/` is copied, named after the datalab (name = id,
version = datalab version), given values written from the datalab's metadata (image by
digest when it was pushed, resources, data mounts, type), then rendered and linted with
Helm's own Go SDK (helm-python-sdk), every manifest validated against the Kubernetes
schemas (kubernetes-validate, strict) and against the "restricted" Pod Security
Standard, and packaged as `build/charts/<id>-<version>.tgz`.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from sciapps.catalog.model import Datalab
from sciapps.catalog import launching
from sciapps.config import KUBERNETES_NAMESPACE, REGISTRY_LOGIN_HINT, Config, RegistryLogin, is_loopback, refused_for_credentials
from sciapps.datalab_types import TYPES, chart_types
from sciapps.errors import SciAppsError
from sciapps.schema import datalab_schema
from sciapps.yamlio import dump_unambiguous

KUBE_VERSION = "1.30.0"
CHART_DIR = Path("charts") / "datalab"
VALUES_SCHEMA = CHART_DIR / "values.schema.json"
TYPES_TEMPLATE = CHART_DIR / "templates" / "_types.tpl"
# datalab.yaml `resources` field -> chart value; the bounds and defaults are the datalab schema's
RESOURCE_VALUES = {"cpu": "cpu", "memory_gb": "memoryGi", "gpu": "gpu", "storage_gb": "storageGi"}


@dataclass
class ChartReport:
    datalab: str
    package: Path | None = None
    manifests: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    pushed: str | None = None

    @property
    def passed(self) -> bool:
        return self.package is not None and not self.problems


def claim_name(config: Config, mission: str, collection: str) -> str:
    """The PersistentVolumeClaim a data collection is mounted from: the catalog's allow-list
    (`collections:` in sciapps.yaml), never a name the datalab makes up (DL-064 refuses any
    other collection; a chart is never rendered for one)."""
    claim = (config.collections.get(mission) or {}).get(collection)
    if claim is None:
        raise SciAppsError(
            f"{collection!r} is not a {mission} collection this catalog mounts",
            "name a collection listed under collections: in sciapps.yaml (DL-064)",
        )
    return claim


def image_of(config: Config, lab: Datalab) -> tuple[str, str, str]:
    """(repository, tag, digest) of the datalab's image, from its build result: the digest it
    was staged or pushed with, which its release tag will name too (a registry-side copy)."""
    from sciapps import ledger

    chain = ledger.read(config.path_of(config.results_dir), lab.id)
    build = chain.check("build")
    ref = build.details.get("ref") if build is not None else None
    if not isinstance(ref, str) or not ref:
        raise SciAppsError(
            f"{lab.id} has no built image recorded", f"run `sciapps build {lab.id}` first (with --push to pin it by digest)"
        )
    repository, _, tag = ref.rpartition(":")
    built = chain.built
    digest = built.staged.digest if built and built.staged else str(build.details.get("digest") or "")
    return repository, tag, digest if ledger.DIGEST.fullmatch(digest) else ""


def values_for(config: Config, lab: Datalab, image: tuple[str, str, str] | None = None) -> dict:
    """The chart's values from datalab.yaml; the image (repository, tag, digest) is the
    build result's unless given (a published release's, when only the chart is rendered again)."""
    meta = lab.metadata or {}
    repository, tag, digest = image or image_of(config, lab)
    resources = launching.defaults(meta)
    most = launching.bounds(meta, config)
    return {
        "datalab": {
            "id": meta["id"],
            "version": meta["version"],
            "type": meta["type"],
            "entry": meta["entry"],
            "parameters": launching.declared(meta, config),
        },
        "params": {},
        "image": {"repository": repository, "tag": tag, "digest": digest, "pullPolicy": "IfNotPresent"},
        "resources": {value: resources[name] for name, value in RESOURCE_VALUES.items()},
        "resourceBounds": {RESOURCE_VALUES[name]: most[name] for name in launching.CHOOSABLE},
        "dataAssets": [
            {
                "name": f"data-{i}-{re.sub(r'[^a-z0-9-]+', '-', a['collection'].lower())}"[:63].rstrip("-."),
                "mission": a["mission"],
                "collection": a["collection"],
                "mountPath": a["mount"],
                "claimName": claim_name(config, a["mission"], a["collection"]),
            }
            for i, a in enumerate(meta.get("data_assets") or [])
        ],
    }


def restricted_problems(manifest: dict) -> list[str]:
    """Breaches of the Pod Security Standard "restricted" profile in a workload manifest."""
    kind = manifest.get("kind")
    spec = (
        (manifest.get("spec") or {}).get("template", {}).get("spec")
        if kind in ("Deployment", "StatefulSet", "DaemonSet", "Job")
        else (manifest.get("spec") if kind == "Pod" else None)
    )
    if spec is None:
        return []
    name = f"{kind}/{manifest.get('metadata', {}).get('name')}"
    problems = []
    pod = spec.get("securityContext") or {}
    if spec.get("hostNetwork") or spec.get("hostPID") or spec.get("hostIPC"):
        problems.append(f"{name}: uses the host's namespaces")
    for volume in spec.get("volumes") or []:
        allowed = {
            "name",
            "configMap",
            "csi",
            "downwardAPI",
            "emptyDir",
            "ephemeral",
            "persistentVolumeClaim",
            "projected",
            "secret",
        }
        if set(volume) - allowed:
            problems.append(f"{name}: volume {volume.get('name')} is of a type the restricted profile forbids")
    for container in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        ctx = container.get("securityContext") or {}
        where = f"{name} container {container.get('name')}"
        if ctx.get("privileged"):
            problems.append(f"{where}: privileged")
        if ctx.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{where}: allowPrivilegeEscalation must be false")
        if "ALL" not in ((ctx.get("capabilities") or {}).get("drop") or []):
            problems.append(f"{where}: capabilities must drop ALL")
        if set((ctx.get("capabilities") or {}).get("add") or []) - {"NET_BIND_SERVICE"}:
            problems.append(f"{where}: adds capabilities")
        if not (ctx.get("runAsNonRoot") or pod.get("runAsNonRoot")):
            problems.append(f"{where}: runAsNonRoot must be true")
        if ctx.get("runAsUser", pod.get("runAsUser")) == 0:
            problems.append(f"{where}: runs as uid 0")
        seccomp = (ctx.get("seccompProfile") or pod.get("seccompProfile") or {}).get("type")
        if seccomp not in ("RuntimeDefault", "Localhost"):
            problems.append(f"{where}: seccompProfile must be RuntimeDefault or Localhost")
        for port in container.get("ports") or []:
            if port.get("hostPort"):
                problems.append(f"{where}: uses a host port")
    return problems


def check_manifests(rendered: dict[str, str]) -> list[str]:
    """Kubernetes schema validation (strict) and the restricted profile, for every manifest."""
    import kubernetes_validate

    problems = []
    for template, text in rendered.items():
        if not template.endswith((".yaml", ".yml")):
            continue
        for document in yaml.safe_load_all(text):
            if not document:
                continue
            try:
                kubernetes_validate.validate(document, KUBE_VERSION, strict=True)
            except kubernetes_validate.ValidationError as exc:
                problems.append(f"{template}: {document.get('kind')}: {exc.message}")
            problems += [f"{template}: {p}" for p in restricted_problems(document)]
    return problems


def build_chart(
    config: Config, lab: Datalab, out: Path, values: dict | None = None, image: tuple[str, str, str] | None = None
) -> ChartReport:
    """Write, render, lint, validate and package the datalab's chart into `out`."""
    import helm_python as helm

    report = ChartReport(lab.id)
    source = config.root / CHART_DIR
    if not (source / "Chart.yaml").is_file():
        raise SciAppsError(f"{source}: no chart here", "run in the SciApps repository (charts/datalab/)")
    defaults = yaml.safe_load((source / "values.yaml").read_text()) or {}
    values = _merge(defaults, values if values is not None else values_for(config, lab, image))
    meta = lab.metadata or {}
    with tempfile.TemporaryDirectory(prefix="sciapps-chart-") as tmp:
        chart = Path(tmp) / lab.id
        shutil.copytree(source, chart)
        info = yaml.safe_load((chart / "Chart.yaml").read_text())
        info.update({"name": lab.id, "version": meta["version"], "appVersion": meta["version"], "description": meta["summary"]})
        info["home"] = config.page_url(lab.id)
        (chart / "Chart.yaml").write_text(dump_unambiguous(info))
        (chart / "values.yaml").write_text("# Written by `sciapps chart` from datalab.yaml.\n" + dump_unambiguous(values))
        try:
            loaded = helm.Chart.load(chart)
            loaded.validate_schema(values)
            report.manifests = loaded.render(values, name=lab.id, namespace=KUBERNETES_NAMESPACE, is_install=True)
        except helm.HelmError as exc:
            report.problems.append(f"helm: {exc}")
            return report
        lint = helm.lint(chart, values, strict=True, kube_version=f"v{KUBE_VERSION}")
        report.problems += [
            f"helm lint: {m['path']}: {m['error']}" for m in lint.get("messages", []) if m.get("severity", 0) >= 2
        ]
        report.problems += [f"helm lint: {e}" for e in lint.get("errors", [])]
        report.problems += check_manifests(report.manifests)
        if report.problems:
            return report
        out.mkdir(parents=True, exist_ok=True)
        report.package = Path(helm.package(chart, destination=out))
    return report


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for key, value in over.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


@contextmanager
def registry_client(remote: str, login: RegistryLogin | None):
    """A Helm registry client for `remote`, logged in with `login` in a credentials file of
    its own that is deleted afterwards: nothing stays logged in on the runner."""
    import helm_python as helm

    host = remote.removeprefix("oci://").split("/")[0]
    plain = is_loopback(host)
    with tempfile.TemporaryDirectory(prefix="sciapps-helm-") as tmp:
        client = helm.RegistryClient(plain_http=plain, credentials_file=Path(tmp) / "config.json")
        try:
            if login is not None and login.applies_to(remote):
                try:
                    client.login(host, login.username, login.password, plain_http=plain)
                except helm.HelmError as exc:
                    raise SciAppsError(
                        f"the registry {host} refused the credentials given ({str(exc)[:160]})", REGISTRY_LOGIN_HINT
                    ) from None
            yield client, plain
        finally:
            client.close()


def _helm_refusal(exc: Exception, host: str, login: RegistryLogin | None) -> SciAppsError | None:
    if refused_for_credentials(str(exc)):
        given = "the credentials given were refused" if login is not None else "no credentials were given"
        return SciAppsError(f"the registry {host} refused to let us push a chart: {given}", REGISTRY_LOGIN_HINT)
    return None


def push_chart(package: Path, remote: str, login: RegistryLogin | None = None) -> str:
    """Push a packaged chart to an OCI registry (`Config.charts_oci`)."""
    import helm_python as helm

    with registry_client(remote, login) as (client, plain):
        try:
            result = helm.push(package, remote, client=client, plain_http=plain)
        except helm.HelmError as exc:
            host = remote.removeprefix("oci://").split("/")[0]
            raise _helm_refusal(exc, host, login) or SciAppsError(
                f"pushing {package.name} to {remote} failed: {exc}", "check that the registry is running and reachable"
            ) from None
    return str(result.get("ref") or result.get("Ref") or json.dumps(result))


def pull_chart(remote: str, digest: str, destination: Path, login: RegistryLogin | None = None) -> None:
    """Pull a published chart (`oci://<host>/charts/<id>`) by its manifest digest into `destination`."""
    import helm_python as helm

    with registry_client(remote, login) as (client, plain):
        try:
            helm.pull(f"{remote}@{digest}", destination=destination, client=client, plain_http=plain)
        except helm.HelmError as exc:
            raise SciAppsError(
                f"cannot pull {remote}@{digest}: {str(exc)[:200]}", "check that the registry is reachable"
            ) from None


def values_schema(current: dict, schema: dict | None = None) -> dict:
    """The chart's values schema with what it repeats of the datalab schema and the type
    table (resource bounds, the id pattern, the types) written from them."""
    source = (schema or datalab_schema())["properties"]
    out = copy.deepcopy(current)
    out["$comment"] = (
        "resources, datalab.id and datalab.type are written by `sciapps schema generate` from "
        "schemas/datalab.schema.json and tools/sciapps/datalab_types.py; edit those"
    )
    datalab = out["properties"]["datalab"]["properties"]
    datalab["id"]["pattern"] = source["id"]["pattern"]
    datalab["type"] = {"description": "What the datalab opens: " + ", ".join(TYPES) + ".", "enum": list(TYPES)}
    resources = out["properties"]["resources"]["properties"]
    for name, value in RESOURCE_VALUES.items():
        spec = source["resources"]["properties"][name]
        resources[value] = {
            "description": spec["description"],
            "type": spec["type"],
            "minimum": spec["minimum"],
            "maximum": spec["maximum"],
        }
    return out


def types_template() -> str:
    """charts/datalab/templates/_types.tpl: the type table as the templates read it."""
    body = yaml.safe_dump(chart_types(), sort_keys=True, default_flow_style=False).rstrip("\n")
    return (
        "{{/* Generated from tools/sciapps/datalab_types.py by `sciapps schema generate`; do not edit. */}}\n"
        '{{- define "datalab.types" -}}\n' + body + "\n{{- end -}}\n"
        "{{/* The entry of this datalab's type, as YAML: include it, then fromYaml. */}}\n"
        '{{- define "datalab.type" -}}\n'
        '{{- index (include "datalab.types" . | fromYaml) .Values.datalab.type | toYaml -}}\n'
        "{{- end -}}\n"
    )
