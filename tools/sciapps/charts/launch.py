"""`sciapps launch`: install a datalab's chart into a Kubernetes cluster (the kubeconfig given, else $KUBECONFIG).

The chart is rendered with Helm's SDK and its manifests applied server-side with the
Kubernetes Python client, field manager `sciapps`; launching again updates in place.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from sciapps.errors import SciAppsError


def kubeconfig_path(given: Path | None = None) -> Path:
    """The kubeconfig to use: the one given, else $KUBECONFIG (read now, not at import
    time as the Kubernetes client does), else ~/.kube/config."""
    if given is not None:
        return Path(given)
    first = (os.environ.get("KUBECONFIG") or "").split(os.pathsep)[0]
    return Path(first).expanduser() if first else Path("~/.kube/config").expanduser()


def _client(kubeconfig: Path):
    """An API client of its own for this kubeconfig; the client library's global default
    configuration is never read or changed."""
    from kubernetes import client, config as kube_config
    from kubernetes.config.config_exception import ConfigException

    try:
        api = kube_config.new_client_from_config(config_file=str(kubeconfig))
    except (ConfigException, FileNotFoundError, OSError, ValueError, TypeError, AttributeError) as exc:
        reason = (str(exc).splitlines() or [type(exc).__name__])[0][:200]
        raise SciAppsError(
            f"no Kubernetes cluster configured ({kubeconfig}: {reason})",
            "point KUBECONFIG (or --kubeconfig) at a cluster's kubeconfig (kind, k3d or your platform's), then launch again",
        ) from None
    try:
        client.VersionApi(api).get_code(_request_timeout=10)
    except Exception as exc:
        raise SciAppsError(
            f"cannot reach the cluster at {api.configuration.host} ({type(exc).__name__})",
            "check that the cluster is running and that KUBECONFIG names the right one",
        ) from None
    return api


def launch(package: Path, values: dict, release: str, namespace: str, kubeconfig: Path | None = None) -> list[str]:
    """Apply the chart's manifests to the cluster of `kubeconfig` (see `kubeconfig_path`);
    returns 'Kind/name' of each."""
    import helm_python as helm
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException
    from kubernetes.dynamic import DynamicClient

    api = _client(kubeconfig_path(kubeconfig))
    rendered = helm.Chart.load(package).render(values, name=release, namespace=namespace, is_install=True)
    core = client.CoreV1Api(api)
    try:
        core.read_namespace(namespace)
    except ApiException as exc:
        if exc.status != 404:
            raise SciAppsError(
                f"cannot read namespace {namespace}: {exc.reason}", "check your permissions on the cluster"
            ) from None
        core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace)))
    dynamic = DynamicClient(api)
    applied = []
    for template, text in sorted(rendered.items()):
        if not template.endswith((".yaml", ".yml")):
            continue
        for document in yaml.safe_load_all(text):
            if not document:
                continue
            resource = dynamic.resources.get(api_version=document["apiVersion"], kind=document["kind"])
            try:
                resource.server_side_apply(body=document, namespace=namespace, field_manager="sciapps", force_conflicts=True)
            except ApiException as exc:
                raise SciAppsError(
                    f"the cluster refused {document['kind']}/{document['metadata']['name']}: {exc.reason}",
                    "see the message; the restricted Pod Security profile is met by the chart",
                ) from None
            applied.append(f"{document['kind']}/{document['metadata']['name']}")
    return applied
