"""The Dockerfile SciApps writes for basic mode."""

from __future__ import annotations

from sciapps.buildfiles import apt_packages
from sciapps.images.dockerfile import basic_dockerfile


META = {"id": "x", "type": "jupyterlab", "entry": "notebooks/a b.ipynb"}


def test_layers_go_from_dependencies_to_files():
    text = basic_dockerfile(META, {"requirements.txt", "apt.txt", "postBuild", "notebooks/a b.ipynb"}, ["jq", "saods9"])
    order = [
        text.index(marker)
        for marker in (
            "FROM jl_base AS python-packages",
            "COPY datalab/requirements.txt",
            "\nFROM jl_base\n",
            "apt-get install -y --no-install-recommends jq saods9",
            "COPY --from=python-packages",
            "COPY --chown=1000:1000 datalab/ /home/datalab/work/",
            "RUN ./postBuild",
        )
    ]
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


def test_approved_bases_are_pinned_to_their_image_ids():
    from sciapps.buildfiles import pin_bases

    ids = {"jl_base": "sha256:" + "a" * 64, "x_base": "sha256:" + "b" * 64}
    text = (
        "ARG FLAVOUR=x_base\n"
        "FROM jl_base AS python-packages\nRUN pip install \\\n    astropy\n"
        "FROM registry.example.org/sciapps/jl_base:1.0@sha256:" + "c" * 64 + " AS pinned\n"
        "FROM ${FLAVOUR} AS desktop\n"
        "FROM elsewhere.example.org/jl_base AS foreign\n"
        "FROM python-packages\nUSER 1000\n"
    )
    pinned, names = pin_bases(text, ids, "registry.example.org/sciapps")
    lines = pinned.splitlines()
    assert names == ["jl_base", "jl_base", "x_base"]
    assert lines[1] == f"FROM {ids['jl_base']} AS python-packages"
    assert lines[2:4] == ["RUN pip install \\", "    astropy"]  # the rest is left as written
    assert lines[4] == f"FROM {ids['jl_base']} AS pinned"
    assert lines[5] == f"FROM {ids['x_base']} AS desktop"
    assert lines[6] == "FROM elsewhere.example.org/jl_base AS foreign"  # not approved: validation refuses it
    assert lines[7] == "FROM python-packages"  # a stage, not an image


def test_the_basic_dockerfile_names_the_base_it_is_given():
    image_id = "sha256:" + "d" * 64
    text = basic_dockerfile(META, {"requirements.txt"}, [], image_id)
    assert f"FROM {image_id} AS python-packages" in text and f"\nFROM {image_id}\n" in text and "jl_base" not in text


def test_pip_installs_wheels_only_unless_a_moderator_approved_source_builds():
    """A source distribution runs its own build code: basic mode takes wheels only (DL-071)."""
    for kind in ("jupyterlab", "vnc"):
        meta = {**META, "type": kind}
        text = basic_dockerfile(meta, {"requirements.txt"}, [])
        assert "pip install --no-cache-dir --disable-pip-version-check --only-binary=:all:" in text
        for claimed in ([{"rule": "DL-058", "reason": "x"}], "DL-071", [{"rule": "DL-0711"}], None):
            assert "--only-binary=:all:" in basic_dockerfile({**meta, "exceptions": claimed}, {"requirements.txt"}, [])
        approved = {**meta, "exceptions": [{"rule": "DL-071", "reason": "pure Python, no wheel"}]}
        assert "--only-binary" not in basic_dockerfile(approved, {"requirements.txt"}, [])
