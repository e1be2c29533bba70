"""The datalab chart: every option renders, lints strictly, validates against the
Kubernetes schemas and the restricted Pod Security profile; each example gets a chart."""

from __future__ import annotations

import json
import re
import shutil
import urllib.request
from dataclasses import replace

import pytest
import yaml
from click.testing import CliRunner

from sciapps.catalog.loader import load_datalab
from sciapps.charts.chart import build_chart, check_manifests, push_chart, restricted_problems
from sciapps.config import load_config
from sciapps.errors import SciAppsError
from tests.conftest import GAIA, REPO, XMM

CONFIG = load_config(REPO / "sciapps.yaml")
ALL_OPTIONS = yaml.safe_load((REPO / "tests" / "charts" / "all-options.values.yaml").read_text())
EXAMPLES = sorted(p.name for p in (REPO / "datalabs").iterdir() if p.is_dir())


def lab(name="gaia-dr3-hrd"):
    return load_datalab(REPO / "datalabs" / name, CONFIG.limits)


def test_every_option_renders_lints_and_validates(tmp_path):
    report = build_chart(CONFIG, lab(), tmp_path, values=ALL_OPTIONS)
    assert report.problems == [] and report.package.name == f"gaia-dr3-hrd-{GAIA}.tgz"
    deployment = yaml.safe_load(report.manifests["gaia-dr3-hrd/templates/deployment.yaml"])
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "registry.example.org/sciapps/every-option@" + ALL_OPTIONS["image"]["digest"]
    assert container["resources"]["limits"] == {"cpu": "4", "memory": "16Gi", "ephemeral-storage": "50Gi", "nvidia.com/gpu": "1"}
    mounts = {m["mountPath"]: m.get("readOnly", False) for m in container["volumeMounts"]}
    assert mounts == {"/home/datalab/scratch": False, "/data/gaia/dr3": True, "/data/planck/pr3": True}
    assert {"name": "DATALAB_TOKEN", "valueFrom": {"secretKeyRef": {"name": "every-option-token", "key": "token"}}} in container[
        "env"
    ]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["SCIAPPS_PARAM_OBSID"] == "0765432109" and env["SCIAPPS_PARAM_MAX_ENERGY_KEV"] == "8.5"
    assert json.loads(env["SCIAPPS_PARAMETERS"]) == ALL_OPTIONS["datalab"]["parameters"]
    service = yaml.safe_load(report.manifests["gaia-dr3-hrd/templates/service.yaml"])
    assert service["spec"]["type"] == "NodePort"


@pytest.mark.parametrize(
    "change,said",
    [
        ({"params": {"rootpw": "x"}}, "params.rootpw is not a parameter of this datalab"),
        ({"params": {"obsid": "1" * 300}}, "params"),
        ({"params": {"Bad-Name": "1"}}, "'Bad-Name' does not match pattern"),
        ({"resources": {**ALL_OPTIONS["resources"], "cpu": 9}}, "resources.cpu 9 is above what this datalab allows (8)"),
        (
            {"resources": {**ALL_OPTIONS["resources"], "memoryGi": 64}},
            "resources.memoryGi 64 is above what this datalab allows (32)",
        ),
    ],
)
def test_the_chart_refuses_undeclared_values_and_resources_above_the_bounds(tmp_path, change, said):
    report = build_chart(CONFIG, lab(), tmp_path, values={**ALL_OPTIONS, **change})
    assert report.package is None and said in report.problems[0]


def test_launch_values_are_checked_against_the_charts_own_declaration():
    from sciapps.errors import Refused
    from sciapps.local import launch_values

    values = {**ALL_OPTIONS, "params": {}}
    chosen = launch_values(values, "every-option", [("obsid", "0765432109")], {"cpu": 6, "memory_gb": None})
    assert chosen["params"] == {"obsid": "0765432109"} and chosen["resources"]["cpu"] == 6
    for params, asked, said in [
        ([("obsid", "07654321\n09")], {}, "Observation id holds the invisible or control character U+000A"),
        ([("obsid", "0765432109"), ("obsid", "0765432109")], {}, "obsid is given more than once"),
        ([("image", "evil/image")], {}, "image is not a parameter of this datalab"),
        ([], {"cpu": 8.5}, "cpu 8.5 is outside what every-option allows (0.25 to 8)"),
        ([], {"memory_gb": 0.1}, "memory_gb 0.1 GiB is outside what every-option allows (0.5 to 32 GiB)"),
    ]:
        with pytest.raises(Refused, match=re.escape(said)):
            launch_values(values, "every-option", params, asked)


def test_example_chart_carries_the_declaration_and_the_bounds(tmp_path):
    from sciapps.charts.chart import values_for

    written = values_for(CONFIG, lab("xmm-epic-spectrum-fit"), ("r.example.org/x", XMM, ""))
    assert written["resourceBounds"] == {"cpu": 8, "memoryGi": 16} and written["params"] == {}
    assert [p["name"] for p in written["datalab"]["parameters"]] == ["obsid", "max_energy_kev"]
    assert written["datalab"]["parameters"][0]["pattern"] == "^[0-9]{10}$"  # from the catalog's id kind


def test_desktop_datalab_serves_novnc(tmp_path):
    values = {
        **ALL_OPTIONS,
        "datalab": {"id": "topcat-desktop", "version": "1.0.0", "type": "vnc", "entry": "topcat"},
        "params": {},
    }
    report = build_chart(CONFIG, lab("topcat-desktop"), tmp_path, values=values)
    assert report.problems == []
    container = yaml.safe_load(report.manifests["topcat-desktop/templates/deployment.yaml"])["spec"]["template"]["spec"][
        "containers"
    ][0]
    assert container["ports"][0]["containerPort"] == 6080 and container["readinessProbe"]["httpGet"]["path"] == "/vnc.html"
    assert {"name": "DATALAB_APP", "value": "topcat"} in container["env"]


def test_bad_values_are_refused_by_the_chart_schema(tmp_path):
    values = {**ALL_OPTIONS, "image": {**ALL_OPTIONS["image"], "digest": "sha256:nothex"}}
    report = build_chart(CONFIG, lab(), tmp_path, values=values)
    assert report.package is None and "digest" in report.problems[0]


BAD_POD = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "bad"},
    "spec": {
        "selector": {"matchLabels": {"a": "b"}},
        "template": {
            "metadata": {"labels": {"a": "b"}},
            "spec": {
                "hostNetwork": True,
                "volumes": [{"name": "host", "hostPath": {"path": "/"}}],
                "containers": [
                    {
                        "name": "c",
                        "image": "x",
                        "securityContext": {"privileged": True, "runAsUser": 0, "capabilities": {"add": ["SYS_ADMIN"]}},
                        "ports": [{"containerPort": 80, "hostPort": 80}],
                    }
                ],
            },
        },
    },
}


def test_restricted_profile_breaches_are_named():
    problems = restricted_problems(BAD_POD)
    for expected in (
        "host's namespaces",
        "volume host",
        "privileged",
        "allowPrivilegeEscalation",
        "drop ALL",
        "adds capabilities",
        "runAsNonRoot",
        "uid 0",
        "seccompProfile",
        "host port",
    ):
        assert any(expected in p for p in problems), expected
    schema = check_manifests(
        {"x/templates/bad.yaml": yaml.safe_dump({**BAD_POD, "spec": {**BAD_POD["spec"], "replicas": "many"}})}
    )
    assert any("Deployment" in p and "many" in p for p in schema)


def test_no_build_recorded_is_a_clear_error(tmp_path):
    config = replace(CONFIG, path=tmp_path / "sciapps.yaml")
    shutil.copytree(REPO / "charts", tmp_path / "charts")
    with pytest.raises(SciAppsError, match="no built image recorded"):
        build_chart(config, lab(), tmp_path / "out")


@pytest.mark.parametrize("example", EXAMPLES)
def test_example_gets_a_chart(engine, approved, example):
    from sciapps.cli import cli

    runner = CliRunner()
    assert runner.invoke(cli, ["build", example, "--config", str(REPO / "sciapps.yaml")]).exit_code == 0
    result = runner.invoke(cli, ["chart", example, "--config", str(REPO / "sciapps.yaml")])
    assert result.exit_code == 0, result.output
    assert "restricted profile met" in result.output
    assert (REPO / "build" / "charts" / f"{example}-{lab(example).get('version')}.tgz").is_file()


def test_chart_pushed_to_an_oci_registry(registry, tmp_path):
    report = build_chart(CONFIG, lab(), tmp_path, values=ALL_OPTIONS)
    push_chart(report.package, f"oci://{registry}/charts")
    with urllib.request.urlopen(f"http://{registry}/v2/charts/gaia-dr3-hrd/tags/list", timeout=10) as response:
        assert json.load(response)["tags"] == [GAIA]


def test_an_unverified_development_launch_without_a_cluster_says_so(engine, approved, monkeypatch, tmp_path):
    """No release record can be read here (no registry, no key): launch refuses, unless told
    --allow-unverified, which warns and launches what is built here: the cluster is missing."""
    from sciapps.cli import cli

    runner = CliRunner()
    assert runner.invoke(cli, ["build", "gaia-dr3-hrd", "--config", str(REPO / "sciapps.yaml")]).exit_code == 0
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-such-kubeconfig"))
    monkeypatch.setenv("HOME", str(tmp_path))
    result = runner.invoke(cli, ["launch", "gaia-dr3-hrd", "--config", str(REPO / "sciapps.yaml")])
    assert result.exit_code == 2 and "Traceback" not in result.output  # cannot check: no registry, no key
    result = runner.invoke(cli, ["launch", "gaia-dr3-hrd", "--allow-unverified", "--config", str(REPO / "sciapps.yaml")])
    assert "WARNING: launching gaia-dr3-hrd unverified" in result.output
    assert result.exit_code == 2 and "no Kubernetes cluster configured" in result.output and "Traceback" not in result.output


def test_each_launch_reads_the_kubeconfig_of_its_own_time(tmp_path, monkeypatch):
    """The Kubernetes client reads $KUBECONFIG once, at import: launch must not."""
    import socket

    from sciapps.charts.launch import launch

    package = build_chart(CONFIG, lab(), tmp_path, values=ALL_OPTIONS).package
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-such-kubeconfig"))
    with pytest.raises(SciAppsError, match="no Kubernetes cluster configured"):
        launch(package, {}, "gaia-dr3-hrd", "datalabs")
    with socket.socket() as s:  # a port where no cluster answers
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "here",
                "clusters": [
                    {"name": "here", "cluster": {"server": f"https://127.0.0.1:{port}", "insecure-skip-tls-verify": True}}
                ],
                "contexts": [{"name": "here", "context": {"cluster": "here", "user": "me"}}],
                "users": [{"name": "me", "user": {"token": "t"}}],
            }
        )
    )
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    with pytest.raises(SciAppsError, match=f"cannot reach the cluster at https://127.0.0.1:{port}"):
        launch(package, {}, "gaia-dr3-hrd", "datalabs")
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-such-kubeconfig"))  # the one given wins
    with pytest.raises(SciAppsError, match=f"cannot reach the cluster at https://127.0.0.1:{port}"):
        launch(package, {}, "gaia-dr3-hrd", "datalabs", kubeconfig=kubeconfig)


@pytest.mark.skipif(not __import__("os").environ.get("KUBECONFIG"), reason="needs a cluster: set KUBECONFIG")
def test_launch_on_a_cluster(engine, approved):
    import os
    import secrets

    from kubernetes import client, config as kube_config

    from sciapps.cli import cli

    kubeconfig = os.environ["KUBECONFIG"].split(os.pathsep)[0]
    namespace = f"sciapps-test-{secrets.token_hex(3)}"
    result = CliRunner().invoke(
        cli,
        [
            "launch",
            "gaia-dr3-hrd",
            "--namespace",
            namespace,
            "--kubeconfig",
            kubeconfig,
            "--param",
            "source_id=4295806720",
            "--cpu",
            "2",
            "--config",
            str(REPO / "sciapps.yaml"),
        ],
    )
    api = kube_config.new_client_from_config(config_file=kubeconfig)
    try:
        assert result.exit_code == 0, result.output
        deployment = client.AppsV1Api(api).read_namespaced_deployment("gaia-dr3-hrd", namespace)
        assert deployment.spec.template.spec.security_context.run_as_non_root is True
        container = deployment.spec.template.spec.containers[0]
        env = {e.name: e.value for e in container.env}
        assert env["SCIAPPS_PARAM_SOURCE_ID"] == "4295806720" and "SCIAPPS_PARAMETERS" in env
        assert container.resources.limits["cpu"] == "2"  # the launch's choice, within the datalab's bounds
    finally:
        client.CoreV1Api(api).delete_namespace(namespace)


def test_an_id_that_looks_like_a_number_stays_text_for_helm(tmp_path):
    """PyYAML writes `0123456789` bare (no YAML 1.1 octal has an 8 or a 9), and Helm's
    YAML 1.2 reader would take it for the number 123456789: the container would then
    refuse the default. The chart's values are written so that every reader agrees."""
    import helm_python as helm

    report = build_chart(CONFIG, lab("xmm-epic-spectrum-fit"), tmp_path, image=("r.example.org/sciapps/xmm", XMM, ""))
    assert report.passed, report.problems
    values = helm.Chart.load(report.package).values
    assert values["datalab"]["parameters"][0]["default"] == "0123456789"
    env = {
        e["name"]: e.get("value")
        for e in yaml.safe_load(report.manifests["xmm-epic-spectrum-fit/templates/deployment.yaml"])["spec"]["template"]["spec"][
            "containers"
        ][0]["env"]
    }
    assert json.loads(env["SCIAPPS_PARAMETERS"])[0]["default"] == "0123456789"
