"""Launch parameters on real containers: `sciapps test` runs parameter sets the way the store
launches them, `sciapps run --param` opens the injected copy of the entry notebook, and a
bad value, given to `run` or straight to the container, starts nothing."""

from __future__ import annotations

import json
import shutil
import time
import urllib.request

import pytest

from sciapps import launchparams
from sciapps.catalog.launching import declared
from sciapps.catalog.loader import load_datalab
from sciapps.config import load_config
from sciapps.errors import Refused
from sciapps.images.build import build, plan
from sciapps.local import run_locally
from sciapps.testing import runner
from sciapps.testing.runner import LABEL, run_tests
from tests.conftest import CASES, REPO
from tests.testing.test_runner import expected


def _built(engine, approved, folder):
    settings = load_config(REPO / "sciapps.yaml")
    lab = load_datalab(folder, settings.limits)
    outcome = build(engine, plan(lab, settings, approved), log=lambda line: None)
    return settings, lab, outcome.ref


def test_each_parameter_set_is_a_launch_and_a_failing_one_fails(engine, approved):
    settings, lab, image = _built(engine, approved, CASES / "images" / "param-lab")
    want = expected("param-lab")
    report = run_tests(
        engine, lab, image, notebook_timeout=60, log=lambda line: None, parameters=declared(lab.metadata, settings)
    )
    assert [c.name for c in report.checks] == want["checks"]
    assert [c.passed for c in report.checks] == [True, True, False], [(c.name, c.output[-400:]) for c in report.checks]
    assert want["output"] in report.checks[-1].output
    executed = json.loads(report.checks[1].executed)  # the notebook as it ran, kept for the moderator
    assert any(c.get("outputs") for c in executed["cells"]) and "injected-parameters" in json.dumps(executed)
    assert engine.containers_labelled(LABEL) == []


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def test_run_with_a_parameter_opens_the_injected_copy_and_leaves_the_notebook_alone(engine, approved, tmp_path):
    settings = load_config(REPO / "sciapps.yaml")
    started = run_locally(
        settings,
        "xmm-epic-spectrum-fit",
        tmp_path / "data",
        lambda line: None,
        params=[("obsid", "0765432109")],
        resources={"cpu": 1.5, "memory_gb": 6},
        until_ready=True,
    )
    engine_, container, service = started
    try:
        assert "/lab/tree/notebooks/spectrum_fit.launch.ipynb?" in service.url
        base, _, query = service.url.partition("/lab/tree/")
        token = query.partition("?")[2]
        copy = _get(f"{base}/api/contents/notebooks/spectrum_fit.launch.ipynb?{token}")["content"]
        original = _get(f"{base}/api/contents/notebooks/spectrum_fit.ipynb?{token}")["content"]
        injected = [c for c in copy["cells"] if "injected-parameters" in c["metadata"].get("tags", [])]
        assert len(injected) == 1
        assert "obsid = '0765432109'\nmax_energy_kev = 10.0" in injected[0]["source"]
        tags = [c["metadata"].get("tags", []) for c in copy["cells"]]
        assert tags.index(["injected-parameters"]) == tags.index(["parameters"]) + 1
        on_disk = json.loads((REPO / "datalabs/xmm-epic-spectrum-fit/notebooks/spectrum_fit.ipynb").read_text())
        assert [c["source"] for c in original["cells"]] == ["".join(c["source"]) for c in on_disk["cells"]]
        attrs = engine.client.api.inspect_container(container.id)
        assert attrs["HostConfig"]["NanoCpus"] == 15 * 10**8 and attrs["HostConfig"]["Memory"] == 6 * 2**30
        env = dict(item.split("=", 1) for item in attrs["Config"]["Env"])
        assert env["SCIAPPS_PARAM_OBSID"] == "0765432109"
    finally:
        engine_.remove(container)


@pytest.mark.parametrize(
    "params,resources,said",
    [
        (
            [("obsid", "0123'; rm -rf ~ #")],
            {},
            "Observation id is not in the expected form (XMM-Newton observation id, for example 0123456789): "
            "it holds characters other than the digits 0 to 9.",
        ),
        ([("obsid", "../../secrets")], {}, "Observation id holds a `..` path segment."),
        ([("nope", "1")], {}, "nope is not a parameter of this datalab"),
        ([("obsid", "0123456789"), ("obsid", "0123456789")], {}, "obsid is given more than once."),
        ([], {"cpu": 9}, "cpu 9 is outside what xmm-epic-spectrum-fit allows (0.25 to 8)."),
        ([], {"memory_gb": 17}, "memory_gb 17 GiB is outside what xmm-epic-spectrum-fit allows (0.5 to 16 GiB)."),
    ],
)
def test_run_refuses_a_bad_launch_before_starting_anything(engine, tmp_path, params, resources, said):
    with pytest.raises(Refused) as refused:
        run_locally(
            load_config(REPO / "sciapps.yaml"), "xmm-epic-spectrum-fit", tmp_path, print, params=params, resources=resources
        )
    assert said in str(refused.value) and refused.value.exit_code == 1
    assert engine.containers_labelled(LABEL) == []


def test_the_container_itself_refuses_a_value_its_launcher_did_not_check(engine, approved):
    """A launcher that passes a value unchecked (a platform, a hand-written chart): the start-up
    of the base image refuses it, and JupyterLab never starts."""
    settings, lab, image = _built(engine, approved, CASES / "images" / "param-lab")
    spec = json.dumps(declared(lab.metadata, settings))
    container = engine.run(
        image,
        "sciapps-test-param-refused",
        command=None,
        environment={"SCIAPPS_PARAMETERS": spec, "SCIAPPS_PARAM_COUNT": "__import__('os').system('id')", "DATALAB_PORT": "0"},
        labels={LABEL: "test"},
    )
    try:
        for _ in range(100):
            if container.status in ("exited", "dead"):
                break
            time.sleep(0.2)
        assert container.status == "exited"
        assert container.logs(tail=5).strip() == "sciapps: refusing to start: Count is not a whole number."
    finally:
        engine.remove(container)


def test_a_desktop_application_gets_its_argument_as_one_word_never_through_a_shell(engine, approved, tmp_path):
    """x_base's datalab-desktop starts DATALAB_APP with the values of parameters marked
    `argument` as "$@": `touch` makes one file named exactly the value, and the commands
    inside it never run."""
    folder = tmp_path / "arg-desktop"
    shutil.copytree(CASES / "images" / "tiny-desktop", folder)
    meta = (
        (folder / "datalab.yaml")
        .read_text()
        .replace("id: tiny-desktop", "id: arg-desktop")
        .replace("entry: xterm", "entry: touch")
    )
    meta += 'parameters:\n  - {name: name, label: File name, type: string, pattern: "^[a-z0-9 ;$()]{1,60}$", argument: true}\n'
    (folder / "datalab.yaml").write_text(meta)
    settings, lab, image = _built(engine, approved, folder)
    value = "a; touch pwned $(touch pwned2)"
    values, problems = launchparams.read_values(declared(lab.metadata, settings), [("name", value)])
    assert problems == []
    container, service = runner.start(engine, lab, image, "test", parameters=declared(lab.metadata, settings), values=values)
    try:
        assert runner.wait_ready(engine, container, service).passed
        listing = ""
        for _ in range(50):
            _, listing = engine.exec(container, ["ls", "-1", "/home/datalab/work"], timeout=10)
            if value in listing:
                break
            time.sleep(0.2)
        assert value in listing.splitlines() and "pwned" not in listing.replace(value, "")
    finally:
        engine.remove(container)
