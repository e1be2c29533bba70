"""Archives launch datalabs through their own standard: the store's IVOA DataLink service
descriptors, read by astropy and invoked by pyvo on an archive's result row, open the
right datalab on the right id in Chromium."""

from __future__ import annotations

import io
from urllib.parse import urlsplit

import pytest
import requests
from astropy.io.votable import parse
from pyvo.dal import TAPResults
from pyvo.dal.adhoc import DatalinkQuery

from sciapps.config import load_config
from sciapps.errors import SciAppsError
from tests.conftest import REPO, XMM

STORE = load_config(REPO / "sciapps.yaml").store_url.rstrip("/") + "/"


def _descriptors(folder):
    return sorted(str(p.relative_to(folder / "datalink")) for p in (folder / "datalink").rglob("*.xml"))


def test_every_descriptor_is_a_valid_votable(store):
    folder, _ = store
    assert _descriptors(folder) == [
        "launch/gaia-dr3-hrd/source_id.xml",  # a verified release: pinned to it
        "launch/xmm-epic-spectrum-fit/obsid.xml",  # (Euclid's release is signed, but its test failed: none)
        "open/euclid/tile.xml",
        "open/gaia/source_id.xml",
        "open/xmm-newton/obsid.xml",
    ]
    for path in (folder / "datalink").rglob("*.xml"):
        table = parse(str(path), verify="exception")  # any deviation from the VOTable standard raises
        [resource] = table.resources
        assert (resource.type, resource.utype) == ("meta", "adhoc:service")
        names = {p.name for p in resource.params}
        assert {"accessURL", "contentType", "exampleURL"} <= names
        [group] = [g for g in resource.groups if g.name == "inputParams"]
        assert [p.ref for p in group.entries if p.ref] in (["obsid"], ["source_id"], ["tile"])


def _archive_result(descriptor: bytes, column: str) -> TAPResults:
    """A TAP result of XMM observations as an archive returns it, its id column `column`,
    with our descriptor added as the archive's operator does (OPERATIONS.md)."""
    text = descriptor.decode()
    resource = text[text.index("<RESOURCE") : text.rindex("</VOTABLE>")].replace('ref="obsid"', f'ref="{column}"')
    votable = f"""<?xml version="1.0" encoding="utf-8"?>
<VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3">
  <RESOURCE type="results">
    <INFO name="QUERY_STATUS" value="OK"/>
    <TABLE name="xsa.observations">
      <FIELD name="observation_id" ID="{column}" datatype="char" arraysize="*" ucd="meta.id;obs"/>
      <FIELD name="target" datatype="char" arraysize="*"/>
      <DATA><TABLEDATA>
        <TR><TD>0123456789</TD><TD>Crab</TD></TR>
        <TR><TD>0765432109</TD><TD>Vela</TD></TR>
      </TABLEDATA></DATA>
    </TABLE>
  </RESOURCE>
  {resource}
</VOTABLE>"""
    return TAPResults(parse(io.BytesIO(votable.encode()), verify="exception"))


def _url_for_row(results: TAPResults, service_id: str, row: int) -> str:
    """The URL pyvo invokes for one row, as its session would send it."""
    query = DatalinkQuery.from_resource(results[row], results.get_adhocservice_by_id(service_id))
    return requests.Request("GET", query.queryurl, params=dict(query)).prepare().url


@pytest.mark.parametrize(
    "descriptor,service,lands,shows",
    [
        ("open/xmm-newton/obsid.xml", "sciapps-open-xmm-newton-obsid", "open/", ".sa-open__results .sa-card"),
        (
            "launch/xmm-epic-spectrum-fit/obsid.xml",
            "sciapps-launch-xmm-epic-spectrum-fit-obsid",
            "launch/",
            ".sa-launch__summary",
        ),
    ],
)
def test_an_archive_row_opens_the_right_datalab_on_the_right_id(store, page, descriptor, service, lands, shows):
    folder, _ = store
    results = _archive_result((folder / "datalink" / descriptor).read_bytes(), "xsa_obsid")
    url = _url_for_row(results, service, 1)  # the Vela row
    assert url.startswith(STORE + lands)  # the store's own page; pyvo sends the names in capitals (DALI)
    page.goto(urlsplit(url).path.lstrip("/") + "?" + urlsplit(url).query)  # the same page of the test store
    page.wait_for_selector(f"{shows}:not([hidden])")
    if lands == "open/":
        assert page.text_content(".sa-open__status").startswith("1 datalab opens the XMM-Newton observation id 0765432109")
        assert page.get_attribute(".sa-open__results .sa-card", "data-id") == "xmm-epic-spectrum-fit"
    else:
        assert f"XMM-Newton EPIC spectrum fit {XMM}" in page.text_content(".sa-launch__summary h2")
        assert "0765432109" in page.text_content(".sa-launch__values")
        assert "digest=sha256" in page.get_attribute(".sa-launch__go", "href")  # pinned to the verified build


@pytest.mark.parametrize(
    "query,said",
    [
        (
            "open/?mission=xmm-newton&obsid=ivo%3A%2F%2Fesavo%2Fxmm%3F0765432109",
            "1 datalab opens the XMM-Newton observation id 0765432109",
        ),
        (
            "open/?MISSION=xmm-newton&OBSID=IVO%3A%2F%2FESAVO%2Fxmm%3F0765432109",
            "1 datalab opens the XMM-Newton observation id 0765432109",
        ),
    ],
)
def test_open_takes_an_ivoa_publisher_did(page, query, said):
    page.goto(query)
    page.wait_for_selector(".sa-open__results .sa-card")
    assert page.text_content(".sa-open__status").startswith(said)


@pytest.mark.parametrize(
    "query",
    [
        "open/?mission=xmm-newton&obsid=ivo%3A%2F%2Fesavo%2Fgaia%2Fdr3%3F0765432109",  # another collection's
        "open/?mission=xmm-newton&obsid=ivo%3A%2F%2Fesavo%2Fxmm%3F",  # no id after the prefix
        "open/?mission=xmm-newton&obsid=ivo%3A%2F%2Fesavo%2Fxmm%3F..%2F..%2Fetc",
    ],
)
def test_a_did_of_another_collection_or_none_is_refused_in_one_sentence(page, query):
    page.goto(query)
    page.wait_for_selector(".sa-open__refused:not([hidden])")
    refused = page.text_content(".sa-open__refused")
    assert refused.startswith("The XMM-Newton observation id ") and page.query_selector(".sa-open__results .sa-card") is None


def test_launch_takes_a_did_too(page):
    page.goto(f"launch/?datalab=xmm-epic-spectrum-fit&version={XMM}&obsid=ivo%3A%2F%2Fesavo%2Fxmm%3F0765432109")
    page.wait_for_selector(".sa-launch__summary:not([hidden])")
    assert "obsid=0765432109" in page.get_attribute(".sa-launch__go", "href")  # the id, never the DID, reaches the launch
    page.goto(f"launch/?datalab=xmm-epic-spectrum-fit&version={XMM}&obsid=ivo%3A%2F%2Fesavo%2Fgaia%2Fdr3%3F0765432109")
    page.wait_for_selector(".sa-launch__refused:not([hidden])")
    assert "Observation id is an IVOA identifier of another collection" in page.text_content(".sa-launch__refused")


@pytest.mark.parametrize(
    "ivoid", ["esavo/xmm", "ivo://", "ivo://x", "ivo://esavo/xmm?0123", "ivo://esa vo/xmm", "http://esavo/xmm"]
)
def test_an_ivoid_prefix_that_is_not_an_ivoa_identifier_is_named_with_a_hint(tmp_path, ivoid):
    text = (REPO / "sciapps.yaml").read_text().replace("ivoid: ivo://esavo/xmm\n", f"ivoid: {ivoid!r}\n", 1)
    assert f"ivoid: {ivoid!r}" in text
    (tmp_path / "sciapps.yaml").write_text(text)
    with pytest.raises(SciAppsError) as refused:
        load_config(tmp_path / "sciapps.yaml")
    assert "collections.xmm-newton.xmm_pps.ivoid" in refused.value.message and "ivo://" in refused.value.hint
