"""`sciapps launch`: install a datalab's chart into a Kubernetes cluster (current kubeconfig).

The chart is rendered with Helm's SDK and its manifests applied server-side with the
Kubernetes Python client, field manager `sciapps`; launching again updates in place.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from sciapps.errors import SciAppsError


def _client():
    from kubernetes import client, config as kube_config
    from kubernetes.config.config_exception import ConfigException

    where = os.environ.get("KUBECONFIG") or str(Path("~/.kube/config").expanduser())
    try:
        kube_config.load_kube_config()
    except (ConfigException, FileNotFoundError, OSError) as exc:
        raise SciAppsError(
            f"no Kubernetes cluster configured ({where}: {str(exc).splitlines()[0][:200]})",
            "point KUBECONFIG at a cluster's kubeconfig (kind, k3d or your platform's), then launch again",
        ) from None
    api = client.ApiClient()
    try:
        client.VersionApi(api).get_code(_request_timeout=10)
    except Exception as exc:
        raise SciAppsError(f"cannot reach the cluster at {api.configuration.host} ({type(exc).__name__})",
                           "check that the cluster is running and that KUBECONFIG names the right one") from None
    return api


def launch(package: Path, values: dict, release: str, namespace: str) -> list[str]:
    """Apply the chart's manifests; returns 'Kind/name' of each."""
    import helm_python as helm
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException
    from kubernetes.dynamic import DynamicClient

    api = _client()
    rendered = helm.Chart.load(package).render(values, name=release, namespace=namespace, is_install=True)
    core = client.CoreV1Api(api)
    try:
        core.read_namespace(namespace)
    except ApiException as exc:
        if exc.status != 404:
            raise SciAppsError(f"cannot read namespace {namespace}: {exc.reason}", "check your permissions on the cluster") from None
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
                raise SciAppsError(f"the cluster refused {document['kind']}/{document['metadata']['name']}: {exc.reason}",
                                   "see the message; the restricted Pod Security profile is met by the chart") from None
            applied.append(f"{document['kind']}/{document['metadata']['name']}")
    return applied
