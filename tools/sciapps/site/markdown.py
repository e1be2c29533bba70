"""Markdown from datalab descriptions, rendered and then sanitized with an allow-list.

python-markdown renders; nh3 (the Ammonia sanitizer) keeps only the tags, attributes and
URL schemes listed here. Nothing a description contains can run script in a visitor's
browser: no <script>, <iframe>, <style>, event-handler attributes, `javascript:` or
`data:` URLs. Links get rel="noopener noreferrer nofollow".
"""

from __future__ import annotations

import markdown as md
import nh3

TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em", "h1", "h2", "h3", "h4",
    "h5", "h6", "hr", "i", "img", "kbd", "li", "ol", "p", "pre", "s", "span", "strong", "sub", "sup", "table",
    "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"align"},
    "th": {"align"},
    "code": {"class"},
}
URL_SCHEMES = {"http", "https", "mailto"}


def _renderer() -> md.Markdown:
    return md.Markdown(extensions=["tables", "fenced_code", "sane_lists"], output_format="html")


_MD = _renderer()


def render(text: str | None) -> str:
    """Markdown -> safe HTML fragment. Headings are shifted down so the page keeps one <h1>."""
    if not text:
        return ""
    html = _MD.reset().convert(text)
    html = nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
    for level in range(5, 0, -1):
        html = html.replace(f"<h{level}>", f"<h{level + 1}>").replace(f"</h{level}>", f"</h{level + 1}>")
    return html
