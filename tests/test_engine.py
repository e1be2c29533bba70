"""The engine, the only door to Docker: what it hands out is a `Container`, never a Docker
object, and each Docker failure is one `EngineError` sentence. Needs a Docker engine."""

from __future__ import annotations

import io
import tarfile

import pytest

from sciapps.engine import CommandNotFound, Container, EngineError

LABEL = "int.esa.datalabs.sciapps-engine-test"


def test_a_container_is_the_engines_own_wrapper(engine, approved):
    base = approved["datalabs_ubuntu_base"].image_id
    container = engine.run(base, "sciapps-engine-test-run", command=["sh", "-c", "echo ready; sleep 60"], labels={LABEL: "run"})
    try:
        assert isinstance(container, Container) and not hasattr(container, "reload")
        assert container.status == "running"
        code, text = engine.exec(container, ["sh", "-c", "echo $((6 * 7))"], timeout=30)
        assert (code, text.strip()) == (0, "42")
        assert "ready" in container.logs(tail=5)
        assert [c.id for c in engine.containers_labelled(LABEL)] == [container.id]
    finally:
        engine.remove(container)
    assert container.status == "removed" and engine.containers_labelled(LABEL) == []


def test_a_missing_program_is_its_own_error_and_the_files_can_still_be_read(engine, approved):
    base = approved["datalabs_ubuntu_base"].image_id
    container = engine.create(base, ["/no/such/program"], user="0", labels={LABEL: "create"})
    try:
        with pytest.raises(CommandNotFound):
            container.start()
        data = b"".join(container.export())
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            assert "etc/os-release" in tar.getnames()
    finally:
        engine.remove(container)
    assert engine.containers_labelled(LABEL) == []


def test_an_image_that_is_not_here_is_one_sentence(engine):
    with pytest.raises(EngineError, match="is not here"):
        engine.create("sciapps-no-such-image:0", ["true"], user="0", labels={LABEL: "missing"})
    assert engine.registry_digest("127.0.0.1:9/sciapps/none:0") is None  # a registry that does not answer


def test_a_log_without_end_is_read_to_its_bound(engine, approved):
    """A datalab's program may write any amount: the log is streamed, and only its last
    `limit` bytes are kept, never the whole of it in memory."""
    base = approved["datalabs_ubuntu_base"].image_id
    container = engine.create(
        base, ["sh", "-c", "head -c 48000000 /dev/zero | tr '\\0' x; echo; echo the-end"], user="0", labels={LABEL: "logs"}
    )
    try:
        container.start()
        assert container.wait(timeout=120) == 0
        kept = container.logs(stderr=False, limit=1024 * 1024)
        assert (
            len(kept.encode()) <= 1024 * 1024 and kept.rstrip().endswith("the-end") and set(kept.rstrip()[:-8].strip()) == {"x"}
        )
    finally:
        engine.remove(container)
