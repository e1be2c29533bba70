"""Generated files are fresh, and the schema documents every field."""

from __future__ import annotations

from sciapps import reference
from sciapps.schema import build_schema, datalab_schema
from tests.conftest import REPO


def test_generated_files_are_fresh():
    assert reference.stale(REPO) == [], "run `sciapps schema generate` and commit the result"


def _walk(node, path="$"):
    yield path, node
    for name, child in node.get("properties", {}).items():
        yield from _walk(child, f"{path}.{name}")
    if isinstance(node.get("items"), dict):
        yield from _walk(node["items"], f"{path}[]")


def test_every_field_has_a_description():
    schema = datalab_schema()
    assert schema["$id"].startswith("https://") and schema["x-schema-version"] == 1
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    for path, node in _walk(schema):
        if path.endswith("[]") and "description" not in node:
            continue  # list items are described by their list
        assert node.get("description"), f"{path} has no description"


def test_reference_page_lists_every_field_and_vocabulary():
    page = (REPO / reference.REFERENCE_PAGE).read_text()
    schema = build_schema(REPO / "schemas")
    for name in schema["properties"]:
        assert f"| `{name}` |" in page
    assert "| `xmm-newton` | XMM-Newton |" in page
    rules_page = (REPO / reference.RULES_PAGE).read_text()
    assert "## DL-031" in rules_page and "missing_file" in rules_page


def test_vocabularies_are_inlined_as_enums():
    schema = datalab_schema()
    assert "gaia" in schema["properties"]["missions"]["items"]["enum"]
    assert "photometry" in schema["properties"]["categories"]["items"]["enum"]


def test_reference_example_is_valid(tmp_path, config):
    from sciapps.catalog.validate import validate

    lab = tmp_path / "gaia-dr3-hrd"
    (lab / "notebooks").mkdir(parents=True)
    (lab / "notebooks" / "hr_diagram.ipynb").write_bytes(
        (REPO / "datalabs" / "gaia-dr3-hrd" / "notebooks" / "hr_diagram.ipynb").read_bytes()
    )
    (lab / "datalab.yaml").write_text(datalab_schema()["x-example"])
    assert [f.format() for f in validate([lab], config)] == []
