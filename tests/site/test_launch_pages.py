"""Launch on the data, in Chromium on the test store: the XMM launch form leads to a link
whose summary shows what starts; an archive's open/ link lists the XMM datalabs and one
click follows; a crafted link with a bad value is refused with one sentence."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, urlsplit

import pytest

from tests.conftest import XMM


XMM_PAGE = "datalabs/xmm-epic-spectrum-fit/"


def summary(page):
    page.wait_for_selector(".sa-launch__summary:not([hidden]), .sa-launch__refused:not([hidden])")
    return page


def test_fill_the_xmm_form_follow_the_link_and_see_the_summary(any_size_page):
    page = any_size_page
    page.goto(XMM_PAGE)
    assert f"Starts version {XMM} · build 1 · verified" in page.text_content(".sa-launch-form__release")
    assert page.input_value("#sa-p-obsid") == "" and page.is_hidden(".sa-launch-form__share")  # the example is a placeholder
    page.fill("#sa-p-obsid", "07654321")  # too short: said at once, and no link to share
    assert page.text_content("#sa-p-obsid-error") == (
        "Observation id is not in the expected form (XMM-Newton observation id, for example 0123456789): "
        "8 digits where 10 are needed."
    )
    assert page.get_attribute("#sa-p-obsid", "aria-invalid") == "true" and page.is_hidden(".sa-launch-form__share")
    page.click("button[type=submit]")
    assert page.url.endswith(XMM_PAGE)  # nothing submitted
    assert page.evaluate("document.activeElement.id") == "sa-p-obsid"
    page.fill("#sa-p-obsid", "0765432109")
    page.fill("#sa-p-max_energy_kev", "8.5")
    page.fill("#sa-r-cpu", "4")
    assert page.is_hidden("#sa-p-obsid-error") and page.is_visible(".sa-launch-form__share")
    shared = page.text_content(".sa-launch-form__share pre")
    assert shared.startswith(
        f"https://sciapps.datalabs.esa.int/launch/?datalab=xmm-epic-spectrum-fit&version={XMM}&obsid=0765432109"
    )
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(rf".*/launch/\?datalab=xmm-epic-spectrum-fit&version={re.escape(XMM)}&obsid=0765432109.*"))
    summary(page)
    assert page.is_hidden(".sa-launch__refused")
    text = page.text_content(".sa-launch__summary")
    assert f"XMM-Newton EPIC spectrum fit {XMM}" in text and "yes: its signed release record verifies" in text
    assert "0765432109" in text and "8.5" in text and "4 CPU cores, 4 GiB memory" in text
    go = urlsplit(page.get_attribute(".sa-launch__go", "href"))
    query = parse_qsl(go.query)
    assert go.netloc == "datalabs.esa.int" and ("obsid", "0765432109") in query and ("max_energy_kev", "8.5") in query
    assert ("cpu", "4") in query and dict(query)["digest"].startswith("sha256:")  # pinned to the build shown


def test_an_archive_link_lists_the_xmm_datalabs_and_one_follows(page):
    page.goto("open/?mission=xmm-newton&obsid=0123456789")
    page.wait_for_selector(".sa-open__results .sa-card")
    assert page.text_content(".sa-open__status") == "1 datalab opens the XMM-Newton observation id 0123456789:"
    assert page.eval_on_selector_all(".sa-open__results .sa-card", "cards => cards.map(c => c.dataset.id)") == [
        "xmm-epic-spectrum-fit"
    ]
    page.click(".sa-open__launch")
    page.wait_for_url(f"**/launch/?datalab=xmm-epic-spectrum-fit&version={XMM}&obsid=0123456789")
    summary(page)
    assert "0123456789" in page.text_content(".sa-launch__values")


HOSTILE = [
    ("obsid=0123'456789", "Observation id is not in the expected form"),
    ("obsid=01234%0A56789", "Observation id holds the invisible or control character U+000A."),
    ("obsid=..%2F..%2Fetc", "Observation id holds a `..` path segment."),
    ("obsid=0123456789%E2%80%AE", "Observation id holds the invisible or control character U+202E."),
    ("obsid=%EF%BC%90123456789", "Observation id is not in the expected form"),  # a fullwidth zero
    ("obsid=" + "1" * 5000, "Observation id is longer than 256 characters."),
    ("max_energy_kev=99", "Upper energy (keV) is above the maximum 12."),
    ("max_energy_kev=1e999", "Upper energy (keV) is not a finite number."),
    ("nope=1", "nope is not a parameter of this datalab (its parameters: max_energy_kev, obsid)."),
    ("obsid=0123456789&obsid=1111111111", "obsid is given more than once."),
    ("cpu=64", "cpu 64 is outside what xmm-epic-spectrum-fit allows (0.25 to 8)."),
    ("%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E=1", "is not a parameter of this datalab"),
]


@pytest.mark.parametrize("query,said", HOSTILE, ids=[q[:30] for q, _ in HOSTILE])
def test_a_crafted_link_with_a_bad_value_is_a_form_to_correct(page, query, said):
    """A refused value is said, as an error, with the form holding the link's values (never
    run as HTML) and a link to the datalab; nothing can be launched from it."""
    page.goto(f"launch/?datalab=xmm-epic-spectrum-fit&version={XMM}&{query}")
    summary(page)
    refused = page.text_content(".sa-launch__refused")
    assert refused.startswith(f"This link cannot start XMM-Newton EPIC spectrum fit {XMM} yet:") and said in refused
    reasons = page.eval_on_selector_all(".sa-launch__refused li", "items => items.map(i => i.textContent)")
    assert all(r.count(". ") == 0 and r.endswith(".") for r in reasons)  # one sentence each
    assert page.get_attribute(".sa-launch__refused a", "href").endswith(XMM_PAGE)
    assert page.is_visible(".sa-launch__repair") and page.is_hidden(".sa-launch__summary")
    assert page.get_attribute(".sa-launch__go", "href") is None
    name = query.split("=", 1)[0]
    # the field the value belongs to holds it and says what is wrong (a text field cannot hold a line break,
    # and a value given twice is said above the form)
    if name in ("obsid", "max_energy_kev", "cpu") and "%0A" not in query and "&obsid" not in query:
        field = "#sa-p-" + name
        assert page.get_attribute(field, "aria-invalid") == "true" and page.text_content(field + "-error")
        assert page.input_value(field) == dict(parse_qsl(query, keep_blank_values=True))[name]


def test_a_refused_launch_is_corrected_in_place(any_size_page):
    page = any_size_page
    page.goto(f"launch/?datalab=xmm-epic-spectrum-fit&version={XMM}&obsid=12345")
    summary(page)
    assert (
        "Observation id is not in the expected form (XMM-Newton observation id, for example 0123456789): "
        "5 digits where 10 are needed." in page.text_content(".sa-launch__refused")
    )
    assert page.evaluate("document.activeElement.id") == "sa-p-obsid" and page.input_value("#sa-p-obsid") == "12345"
    assert page.evaluate("getComputedStyle(document.querySelector('.sa-launch__refused')).borderLeftStyle") != "none"
    page.fill("#sa-p-obsid", "0123456789")
    assert page.is_hidden("#sa-p-obsid-error")
    page.click(".sa-launch__repair button[type=submit]")
    page.wait_for_url(re.compile(r".*obsid=0123456789.*"))
    page.wait_for_selector(".sa-launch__summary:not([hidden])")
    assert "0123456789" in page.text_content(".sa-launch__values")


@pytest.mark.parametrize(
    "query,said",
    [
        ("", "This launch link names no datalab: it needs ?datalab=<id>."),
        ("datalab=" + quote("../api/catalog"), "This launch link names no datalab"),
        ("datalab=no-such-lab", "The store has no datalab no-such-lab."),
        ("datalab=herschel-spire-photometry", "Herschel SPIRE dust temperatures is archived and can no longer be launched."),
        ("datalab=xmm-epic-spectrum-fit&version=2.0.1", "has no verified release of version 2.0.1 to launch."),
        ("datalab=xmm-epic-spectrum-fit&digest=sha256:" + "0" * 64, "has no verified build with the digest this link gives."),
        ("datalab=xmm-epic-spectrum-fit&datalab=gaia-dr3-hrd", "This launch link gives datalab more than once."),
    ],
)
def test_a_link_to_nothing_launchable_says_so(page, query, said):
    page.goto(f"launch/?{query}")
    summary(page)
    assert said in page.text_content(".sa-launch__refused") and page.is_hidden(".sa-launch__summary")


@pytest.mark.parametrize(
    "query,said",
    [
        (
            "mission=xmm-newton&obsid=076",
            "The XMM-Newton observation id is not in the expected form (for example 0123456789): 3 digits where 10 are needed.",
        ),
        ("mission=xmm-newton", "This link gives no XMM-Newton id; it takes one of: obsid (XMM-Newton observation id)."),
        ("mission=xmm-newton&tile=1", '"tile" is not a kind of XMM-Newton id the store knows'),
        ("mission=xmm-newton&obsid=0123456789&obsid=0123456789", "This link gives more than one id"),
        ("mission=planck&map=1", "The store has no datalab that opens planck data by id."),
        ("mission=../api", "This link names no mission"),
    ],
)
def test_a_bad_archive_link_is_refused_with_one_sentence(page, query, said):
    page.goto(f"open/?{query}")
    page.wait_for_selector(".sa-open__refused:not([hidden])")
    assert said in page.text_content(".sa-open__refused")
    assert page.query_selector(".sa-open__results .sa-card") is None
    assert page.query_selector(".sa-open__refused a") is not None  # somewhere to go on
    if "xmm-newton" in query:  # a form per kind of id, the given one holding its value
        assert page.is_visible(".sa-open__fix form input[name=obsid]")
        if "obsid=076" in query:
            assert page.input_value(".sa-open__fix input[name=obsid]") == "076"
            assert page.get_attribute(".sa-open__fix input[name=obsid]", "aria-invalid") == "true"


def test_open_an_id_from_home_a_mission_page_and_search(any_size_page):
    """The ways in with an id: home's and each mission page's forms, and a search that is an id."""
    page = any_size_page
    page.goto("")
    page.fill("#sa-open-xmm-newton-obsid", "0123456789")
    page.click("form:has(#sa-open-xmm-newton-obsid) button")
    page.wait_for_selector(".sa-open__results .sa-card")
    assert page.url.endswith("open/?mission=xmm-newton&obsid=0123456789")
    page.goto("missions/gaia/")
    assert page.get_attribute("#sa-open-gaia-source_id", "placeholder") == "for example 4295806720"
    page.fill("#sa-open-gaia-source_id", "4295806720")
    page.click("form:has(#sa-open-gaia-source_id) button")
    page.wait_for_selector(".sa-open__results .sa-card")
    assert page.eval_on_selector_all(".sa-open__results .sa-card", "cards => cards.map(c => c.dataset.id)") == ["gaia-dr3-hrd"]
    page.goto("browse/?q=0123456789")
    page.wait_for_selector(".sa-open-offer:not([hidden]) a")
    offers = page.eval_on_selector_all(".sa-open-offer a", "links => links.map(a => [a.textContent, a.href])")
    assert offers[0][0] == "Open XMM-Newton observation id 0123456789" and offers[0][1].endswith(
        "open/?mission=xmm-newton&obsid=0123456789"
    )
    assert "Open Gaia DR3 source id 0123456789" in [text for text, _ in offers]  # 1 to 19 digits: a source id too
    page.fill("#sa-q", "gaia")
    page.wait_for_selector(".sa-open-offer[hidden]", state="attached")


def test_open_lists_a_datalab_before_its_release_as_not_launchable(any_size_page):
    page = any_size_page
    page.goto("open/?mission=euclid&tile=102018211")
    page.wait_for_selector(".sa-open__results .sa-card")
    card = page.query_selector(".sa-card[data-id='euclid-q1-photoz']")
    assert "Not launchable yet" in card.text_content() and card.query_selector(".sa-open__launch") is None
    assert "not launchable yet" in page.text_content(".sa-open__status")
