"""The Dockerfile SciApps writes for basic mode."""

from __future__ import annotations

from sciapps.images.dockerfile import apt_packages, basic_dockerfile


META = {"id": "x", "type": "jupyterlab", "entry": "notebooks/a b.ipynb"}


def test_layers_go_from_dependencies_to_files():
    text = basic_dockerfile(META, {"requirements.txt", "apt.txt", "postBuild", "notebooks/a b.ipynb"}, ["jq", "saods9"])
    order = [text.index(marker) for marker in (
        "FROM jl_base AS python-packages", "COPY datalab/requirements.txt", "\nFROM jl_base\n",
        "apt-get install -y --no-install-recommends jq saods9", "COPY --from=python-packages",
        "COPY --chown=1000:1000 datalab/ /home/datalab/work/", "RUN ./postBuild",
    )]
    assert order == sorted(order)
    assert 'ENV DATALAB_ENTRY="notebooks/a b.ipynb"' in text
    final_stage = text.split("\nFROM jl_base\n", 1)[1]
    assert "build-ca" not in final_stage  # the build CA stays in the packages stage
    assert final_stage.index("USER 1000") < final_stage.index("COPY --chown")


def test_notebook_only_datalab_has_one_stage():
    text = basic_dockerfile(META, {"notebooks/a b.ipynb"}, [])
    assert text.count("FROM ") == 1 and "pip" not in text and "apt-get" not in text


def test_desktop_with_python_packages_uses_a_venv():
    text = basic_dockerfile({"id": "d", "type": "vnc", "entry": "topcat -f votable"}, {"requirements.txt"}, ["topcat"])
    assert "FROM x_base AS python-packages" in text and "ENV PATH=/opt/datalab/venv/bin:$PATH" in text
    assert 'ENV DATALAB_APP="topcat -f votable"' in text


def test_apt_txt_accepts_names_and_pins_only():
    packages, problems = apt_packages("# comment\nsaods9 topcat=4.8.7-3\n\nlibc6:amd64 $(curl evil) ; rm\n")
    assert packages == ["saods9", "topcat=4.8.7-3", "rm"]
    assert [(p.line, p.text) for p in problems] == [(4, "libc6:amd64"), (4, "$(curl"), (4, "evil)"), (4, ";")]
