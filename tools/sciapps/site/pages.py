"""The store's pages as HTML fragments, rendered from the store entries with Jinja
(autoescape on: every value from a datalab.yaml is escaped, only the sanitized
description is inserted as HTML). The engine wraps each fragment in its page shell.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import re

import jinja2
from markupsafe import Markup, escape

from sciapps import launchparams
from sciapps.datalab_types import TYPES
from sciapps.schema import vocabulary
from sciapps.site import markdown
from sciapps.site.model import history, sort_newest
from sciapps.stages import checks

NEWEST = 8
MISSION_PAGE_CARDS = 24


@dataclass(frozen=True)
class Page:
    """A store page: where it goes, its title, and its content."""

    path: str  # e.g. "browse/", "missions/gaia/"
    title: str
    html: str
    description: str = ""


def path_breaks(text: object) -> Markup:
    """`text`, escaped, with a break opportunity after each `/` and `_` (and nowhere else): a
    path such as /data/gaia/dr3 or gaia_dr3_source wraps between its parts, never inside one."""
    return Markup("").join(
        escape(part) + Markup("<wbr>") if part in ("/", "_") else escape(part) for part in re.split(r"([/_])", str(text))
    )


def root_of(path: str) -> str:
    """Relative URL of the site root from a page at `path` ("" for the home page)."""
    return "../" * path.count("/")


class Renderer:
    def __init__(self, templates: Path):
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(templates)),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        # One source each: the stages shown as checks, in pipeline order, and the type labels.
        self.env.filters["default_text"] = launchparams.default_text
        self.env.filters["path_breaks"] = path_breaks
        self.env.globals.update(
            checks=checks(), type_labels={t.name: t.label for t in TYPES.values()}, types=list(TYPES.values())
        )

    def render(self, name: str, **values) -> str:
        return self.env.get_template(name).render(**values)

    def datalab(self, e: dict, store_url: str, path: str) -> str:
        return self.render(
            "datalab.html",
            e=e,
            history=history(e),
            root=root_of(path),
            description_html=markdown.render(e["description"]),
            badge_url=f"{store_url.rstrip('/')}/badge/launch.svg",
            store_url=store_url.rstrip("/"),
        )

    def store_pages(
        self,
        entries: list[dict],
        featured_ids: tuple[str, ...],
        create: dict | None = None,
        launch_url: str = "",
        mission_data: dict | None = None,
    ) -> list[Page]:
        """Home, browse, bookmarks, create, the missions index and one page per mission."""
        live = [e for e in entries if e["status"] == "published"]
        by_id = {e["id"]: e for e in live}
        newest = sort_newest(live)
        featured = [by_id[i] for i in featured_ids if i in by_id]
        vocab = vocabulary("missions")
        per_mission: dict[str, list[dict]] = {}
        archived: dict[str, list[dict]] = {}
        for e in sort_newest(entries):  # every mission a shown page links to has a page, archived ones' too
            for m in e["missions"]:
                (per_mission if e["status"] == "published" else archived).setdefault(m["id"], []).append(e)
        missions = [
            {
                "id": mid,
                "name": vocab[mid]["name"],
                "url": vocab[mid].get("url"),
                "count": len(per_mission.get(mid, [])),
                "archived": len(archived.get(mid, [])),
                "data": (mission_data or {}).get(mid, {}),
            }
            for mid in sorted(set(per_mission) | set(archived), key=lambda m: vocab[m]["name"].lower())
        ]
        counts = {"published": len(live), "missions": sum(1 for m in missions if m["count"])}
        pages = [
            Page(
                "",
                "SciApps",
                self.render(
                    "home.html",
                    root="",
                    featured=featured,
                    newest=[e for e in newest if e["id"] not in featured_ids][:NEWEST],  # Featured is not repeated
                    missions=missions,
                    openable=[m for m in missions if m["data"].get("kinds")],
                    counts=counts,
                ),
                "Science applications for ESA mission data, ready to launch in ESA Datalabs.",
            ),
            Page("browse/", "Browse datalabs", self.render("browse.html", root="../")),
            Page("bookmarks/", "My bookmarks", self.render("bookmarks.html", root="../")),
            Page(
                "create/",
                "Create a datalab",
                self.render("create.html", root="../", create=create or {}),
                "Create a datalab in the browser: bring a notebook, fill in a form, download it or open a merge request.",
            ),
            Page("missions/", "Missions", self.render("missions.html", root="../", missions=missions)),
            Page(
                "launch/",
                "Launch a datalab",
                self.render("launch.html", root="../", launch_url=launch_url),
                "What a launch link starts: the datalab, its verified release, the values and the resources.",
            ),
            Page(
                "open/",
                "Open mission data in a datalab",
                self.render("open.html", root="../"),
                "The datalabs that open an observation, source or tile from a mission archive.",
            ),
        ]
        for m in missions:
            shown = per_mission.get(m["id"], [])[:MISSION_PAGE_CARDS]
            gone = archived.get(m["id"], [])[:MISSION_PAGE_CARDS]
            mounts = sorted(
                {(a["collection"], a["mount"]) for e in shown + gone for a in e["data_assets"] if a["mission"] == m["id"]}
            )
            html = self.render(
                "mission.html", root="../../", mission=m, entries=shown, archived=gone, count=m["count"], mounts=mounts
            )
            pages.append(Page(f"missions/{m['id']}/", m["name"], html, f"Datalabs for {m['name']} data"))
        return pages
