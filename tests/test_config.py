"""sciapps.yaml's settings that guard the store: a preview's origin is compared with the
store's as a browser compares origins, and a collection's id pattern keeps to DL-066."""

from __future__ import annotations

import pytest

from sciapps.config import origin, parse_config
from sciapps.errors import SciAppsError

STORE = "https://store.example.org"


def _settings(preview: str, store: str = STORE) -> str:
    return f"store:\n  url: {store}\n  preview_url: '{preview}'\n"


@pytest.mark.parametrize(
    "alias",
    [
        STORE,
        STORE + "/",
        STORE + ":443",
        STORE + ":443/",
        "https://STORE.EXAMPLE.ORG",
        "https://\u017ftore.example.org",  # ſ: UTS #46 maps it to s
        "https://store.exa\u24dcple.org",  # ⓜ: mapped to m
        "https://ｓｔｏｒｅ.example.org",  # full-width letters
        "https://store%2Eexample.org",  # a percent-encoded dot
        "https://store\u3002example.org",  # an ideographic full stop: UTS #46 maps it to a dot
    ],
)
def test_a_preview_on_the_stores_origin_is_refused_however_it_is_spelled(tmp_path, alias):
    with pytest.raises(SciAppsError, match="has the store's own origin"):
        parse_config(_settings(alias), tmp_path / "sciapps.yaml")


@pytest.mark.parametrize("credentials", ["https://user@previews.example.org", "https://u:p@previews.example.org"])
def test_a_preview_url_with_credentials_is_refused(tmp_path, credentials):
    with pytest.raises(SciAppsError, match="carries a user name or password"):
        parse_config(_settings(credentials), tmp_path / "sciapps.yaml")


def test_other_origins_are_other(tmp_path):
    for other in ("https://previews.example.org", "http://store.example.org", "https://store.example.org:8443"):
        assert parse_config(_settings(other), tmp_path / "sciapps.yaml").preview_url == other
    assert (
        origin("https://store.example.org:443/x") == origin("https://STORE.example.org") == ("https", "store.example.org", None)
    )
    assert origin("http://127.0.0.1:80") == ("http", "127.0.0.1", None)
    for bad in ("ftp://store.example.org", "https://", "https://store.example.org:99999", "https://xn--a.example.org"):
        with pytest.raises(SciAppsError):
            origin(bad)


def test_a_collections_id_pattern_keeps_to_the_launch_patterns_dialect(tmp_path):
    text = (
        "collections:\n  xmm-newton:\n    archive:\n      claim: xmm-archive\n"
        "      ids:\n        obsid: {label: Observation id, pattern: '%s'}\n"
    )
    assert parse_config(text % "^[0-9]{10}$", tmp_path / "sciapps.yaml").id_kinds["xmm-newton"]["archive"]["obsid"]
    for unsafe in ("^([0-9]+)+$", "^[^])|.*|(?:]$", "^\\s+$", "^(?:0|01)+$"):
        with pytest.raises(SciAppsError, match=r"collections\.xmm-newton\.archive\.ids\.obsid\.pattern"):
            parse_config(text % unsafe, tmp_path / "sciapps.yaml")
