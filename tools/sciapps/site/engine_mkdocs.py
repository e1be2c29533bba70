"""The rendering engine: mkdocs-material, behind this one module.

mkdocs renders the few store pages (home, browse, missions, bookmarks, reference) with
the theme. Datalab pages would cost mkdocs several milliseconds each and grow its
navigation quadratically, so mkdocs renders one page shell (`datalabs/_template/`) and
each datalab's page is that shell around the datalab's own fragment: same look, same
head, string-assembly speed. Replacing the engine (Zensical reads the same mkdocs.yml)
means replacing this module; the catalog, entries, fragments and data stay as they are.

The plugin also works under plain `mkdocs build` / `mkdocs serve`: it then collects the
catalog itself from its options.
"""

from __future__ import annotations

import base64
import hashlib
import html as html_lib
import logging
import multiprocessing
import os
import re
import shutil
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from mkdocs.config import config_options as opt
from mkdocs.config import load_config
from mkdocs.config.base import Config as MkConfig
from mkdocs.plugins import BasePlugin
from mkdocs.structure.files import File

from sciapps.config import CATALOG_DIR, PAGES_DIR, Config, load_config as load_sciapps_config
from sciapps.datalab_types import TYPES
from sciapps.site import data
from sciapps.site.catalog import Catalog, collect
from sciapps.site.model import Preview
from sciapps.site.pages import Page, Renderer

PLUGIN = "sciapps-store"
MARKER = "<!-- sciapps-store-content -->"
TEMPLATE_PATH = f"{PAGES_DIR}/_template/"
CREATE_PATH = "create/"
TITLE = "SCIAPPS-DATALAB-TITLE"
SUMMARY = "SCIAPPS-DATALAB-SUMMARY"
_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>(.*?)</script>", re.S)

log = logging.getLogger("mkdocs.plugins.sciapps")


class StoreOptions(MkConfig):
    config = opt.Type(str, default="sciapps.yaml")
    catalog = opt.Type(str, default="datalabs")
    templates = opt.Type(str, default="site/templates")
    drafts = opt.Type(bool, default=False)  # `sciapps serve --drafts`: one's own drafts, marked as a preview


def _script_hash(body: bytes) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(body).digest()).decode() + "'"


def content_security_policy(page_html: str, connect: tuple[str, ...] = ()) -> str:
    """The CSP for a page: scripts only from the site itself plus the theme's inline
    script(s) on this page, by hash; no plugins or frames; connections to the site itself
    and, on the page that needs them, to the origins in `connect` (the catalog's GitLab)."""
    connect_src = " ".join(("'self'", *connect))
    hashes = " ".join(_script_hash(body.encode("utf-8")) for body in _INLINE_SCRIPT.findall(page_html))
    return (
        f"default-src 'self'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        f"font-src 'self'; connect-src {connect_src}; object-src 'none'; frame-src 'none'; base-uri 'self'; form-action 'self'"
    ).replace("  ", " ")


_CSP_SCRIPT_SRC = re.compile(rb'(<meta http-equiv="Content-Security-Policy" content="[^"]*?script-src \'self\')')


def allow_live_reload(page: bytes) -> bytes:
    """A page as `sciapps serve` sends it: mkdocs' live-reload script, which it inlines
    before `</body>` with a new epoch and request id each time, is allowed by the hash of
    exactly that script, added to the page's own CSP. Built pages never get this."""
    start = page.rfind(b"<script>")  # mkdocs adds it last, without attributes
    end = page.find(b"</script>", start)
    if start < 0 or end < 0:
        return page
    allowed = _script_hash(page[start + len(b"<script>") : end]).encode()
    return _CSP_SCRIPT_SRC.sub(lambda m: m.group(1) + b" " + allowed, page, count=1)


def with_csp(page_html: str, connect: tuple[str, ...] = ()) -> str:
    meta = f'<meta http-equiv="Content-Security-Policy" content="{content_security_policy(page_html, connect)}">'
    return page_html.replace("<head>", "<head>\n    " + meta, 1)


PARALLEL_FROM = 500  # datalab pages: fewer are written faster by one process than by starting others
_WRITING = None  # (plugin, out, head, tail) while forked processes write the datalab pages


def _write_slice(start: int, count: int) -> None:
    plugin, out, head, tail = _WRITING
    for e in plugin.catalog.entries[start : start + count]:
        plugin._datalab_page(out, head, tail, e)


class StorePlugin(BasePlugin[StoreOptions]):
    def __init__(self):
        super().__init__()
        self.preset: tuple[Config, Catalog] | None = None
        self.search_bytes = 0
        self.jobs = 1  # processes writing the datalab pages (`build`); `sciapps serve` writes them in its own

    # -- set up -------------------------------------------------------------
    def on_config(self, config):
        root = Path(config.config_file_path).parent
        if self.preset is not None:
            self.settings, self.catalog = self.preset
        else:  # plain `mkdocs build` / `mkdocs serve`
            from sciapps.catalog.validate import default_jobs

            self.settings = load_sciapps_config(root / self.config.config)
            drafts = Preview("your drafts", "http://localhost:8000/", drafts=True) if self.config.drafts else None
            self.catalog = collect(self.settings, [root / self.config.catalog], jobs=default_jobs(), preview=drafts)
            for folder, problem in self.catalog.skipped:
                log.warning("left out of the store: %s", problem)
        preview = self.catalog.preview
        config.site_url = (preview.url if preview else self.settings.store_url).rstrip("/") + "/"
        config.site_name = self.settings.store_title
        config.extra["sciapps_preview"] = {"label": preview.label} if preview else None
        self.renderer = Renderer(root / self.config.templates)
        self.pages: dict[str, Page] = {
            p.path: p
            for p in self.renderer.store_pages(
                self.catalog.entries,
                self.settings.featured,
                create_settings(self.settings),
                self.settings.launch_url,
                mission_data(self.settings),
            )
        }
        return config

    def on_files(self, files, config):
        template = Page(TEMPLATE_PATH, TITLE, "", SUMMARY)
        for page in [*self.pages.values(), template]:
            src = f"{page.path}index.md" if page.path else "index.md"
            front = (
                f"---\ntitle: {_yaml(page.title)}\ndescription: "
                f"{_yaml(page.description or page.title)}\nhide: [navigation, toc]\n---\n\n"
            )
            files.append(File.generated(config, src, content=front + MARKER + "\n"))
        return files

    def on_page_content(self, html, page, config, files):
        store_page = self.pages.get(page.url)
        if store_page is not None and MARKER in html:
            return html.replace(MARKER, store_page.html)
        return html

    def on_serve(self, server, config, builder):
        """Only under `sciapps serve` / `mkdocs serve`: let each page run the live-reload
        script that the server adds to it, and nothing else."""
        inject = server._inject_js_into_html  # mkdocs' one place that adds the script

        def inject_allowed(content: bytes, epoch: int) -> bytes:
            return allow_live_reload(inject(content, epoch))

        server._inject_js_into_html = inject_allowed
        return server

    # -- after mkdocs -------------------------------------------------------
    def on_post_build(self, config):
        out = Path(config.site_dir)
        gitlab = (self.settings.gitlab.url,) if self.settings.gitlab else ()
        create_page = out / CREATE_PATH / "index.html"
        for path in out.rglob("*.html"):
            text = path.read_text(encoding="utf-8")
            path.write_text(with_csp(text, gitlab if path == create_page else ()), encoding="utf-8")
        self._datalab_pages(out)
        preview = self.catalog.preview
        if preview is None:  # a preview is never announced: no sitemap, no feed
            data.write_sitemap(out, config.site_url, self.catalog.entries)
        else:
            for name in ("sitemap.xml", "sitemap.xml.gz"):
                (out / name).unlink(missing_ok=True)
        data.write_static(out)
        data.write_public_key(out, self.settings.path_of(self.settings.release_key))
        data.write_spdx(out)
        data.write_nbformat_schemas(out)
        marker = (
            None
            if preview is None
            else {"unreviewed": True, "label": preview.label, "merge_request": preview.merge_request or None}
        )
        data.write_api(out, self.catalog.entries, config.site_url, marker)
        data.write_open(out, self.catalog.entries, self.settings.id_kinds)
        if preview is None:  # a preview announces nothing: no feed, no descriptor for archives
            data.write_feed(out, self.catalog.entries, self.settings.store_url, self.settings.store_title)
            data.write_datalink(out, self.catalog.entries, self.settings.id_kinds, self.settings.store_url)
        self.search_bytes = data.write_search(out, self.catalog.entries, self.settings.id_kinds).stat().st_size

    def _datalab_pages(self, out: Path) -> None:
        shell_file = out / TEMPLATE_PATH / "index.html"
        shell = shell_file.read_text(encoding="utf-8")
        shell = shell.replace(f"<h1>{TITLE}</h1>", "", 1)  # the fragment has its own <h1>
        head, marker, tail = shell.partition(MARKER)
        if not marker:
            raise RuntimeError(f"{shell_file}: the page shell lost its content marker")
        shell_file.unlink()
        shell_file.parent.rmdir()
        entries = self.catalog.entries
        if self.jobs > 1 and len(entries) >= PARALLEL_FROM:  # only `build` sets jobs: never under `serve`'s threads
            # the pages are independent files: forked processes share the rendered catalog and write a slice each
            global _WRITING
            _WRITING = (self, out, head, tail)
            try:
                step = -(-len(entries) // (self.jobs * 4))
                with ProcessPoolExecutor(self.jobs, mp_context=multiprocessing.get_context("fork")) as pool:
                    list(pool.map(_write_slice, range(0, len(entries), step), [step] * len(range(0, len(entries), step))))
            finally:
                _WRITING = None
            return
        for e in entries:
            self._datalab_page(out, head, tail, e)

    def _datalab_page(self, out: Path, head: str, tail: str, e: dict) -> None:
        """One datalab's page, its pictures and its thumbnail."""
        path = e["urls"]["page"]
        title = html_lib.escape(e["name"])
        summary = html_lib.escape(e["summary"])
        page_head = head.replace(TITLE, title).replace(SUMMARY, summary).replace(TEMPLATE_PATH, path)
        page_tail = tail.replace(TITLE, title)
        target = out / path / "index.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        fragment = self.renderer.datalab(e, self.settings.store_url, path)
        target.write_text(page_head + fragment + page_tail, encoding="utf-8")
        data.copy_assets(out, self.catalog.folders[e["id"]], e, self.settings.limits.bytes("image_mb"))
        if any(v.get("cite") for v in e["versions"]):
            data.write_citation(out, e, self.settings.store_url)
        if e["id"] in self.catalog.thumbnails:  # made and re-encoded at collection, never the original bytes
            made, name = self.catalog.thumbnails[e["id"]]
            try:
                os.link(made, out / path / name)  # the cache's own file: nothing to copy
            except OSError:
                shutil.copyfile(made, out / path / name)
        if self.catalog.preview is not None:  # the screenshots before the change, beside the new ones
            for picture in self.catalog.preview.before_media(e["id"]) if e["preview"]["previewed"] else []:
                (out / path / picture["file"]).parent.mkdir(parents=True, exist_ok=True)
                (out / path / picture["file"]).write_bytes(picture["data"])


def mission_data(settings: Config) -> dict:
    """What each mission's page says of its data: the collections this catalog mounts, and
    the kinds of id a launch or an archive's link (`open/`) may name."""
    from sciapps.schema import vocabulary

    every_kind = data.mission_kinds(settings.id_kinds, vocabulary("missions"))
    found: dict = {}
    for mission, collections in settings.collections.items():
        kinds = settings.id_kinds.get(mission, {})
        listed = [
            {"name": name, "kinds": [{"kind": k, **dict(v)} for k, v in sorted(kinds.get(name, {}).items())]}
            for name in sorted(collections)
        ]
        opened = every_kind.get(mission, {})  # as open/ reads them: data.mission_kinds
        found[mission] = {"collections": listed, "kinds": [{"kind": k, **v} for k, v in sorted(opened.items())]}
    return found


def create_settings(settings: Config) -> dict:
    """What the Create page needs to know, embedded in it as JSON."""
    from sciapps import yamlio
    from sciapps.review.submit import CHECKLIST
    from sciapps.schema import vocabulary
    from sciapps.site import markdown

    limits = settings.limits
    gitlab = settings.gitlab
    return {
        "limits": {
            name: getattr(limits, name)
            for name in ("metadata_kb", "file_mb", "notebook_mb", "image_mb", "datalab_mb", "max_files")
        },
        "approved_bases": list(settings.approved_bases),
        "catalog_dir": CATALOG_DIR,
        # the type table, as far as the form branches on it (the first is the default)
        "types": {
            t.name: {"label": t.label, "entry_is_file": t.entry_is_file, "entry_pattern": t.entry_pattern} for t in TYPES.values()
        },
        "missions": {key: entry["name"] for key, entry in vocabulary("missions").items()},
        "categories": {key: entry["name"] for key, entry in vocabulary("categories").items()},
        "gitlab": {
            "url": gitlab.url.rstrip("/"),
            "project": gitlab.project,
            "target_branch": gitlab.target_branch,
            "oauth_application_id": gitlab.oauth_application_id,
        }
        if gitlab
        else None,
        "launch_url": settings.launch_url,
        "checklist": CHECKLIST,
        # the store's own sanitizer allow-list, so the preview shows exactly what the store would
        "markdown": {
            "tags": sorted(markdown.TAGS),
            "attributes": sorted(set().union(*markdown.ATTRIBUTES.values())),
            "schemes": sorted(markdown.URL_SCHEMES),
        },
        # the CLI's bounds on a datalab.yaml, applied before a loaded one is used
        "yaml": {"max_nodes": yamlio.MAX_NODES, "max_depth": yamlio.MAX_DEPTH},
    }


def _yaml(text: str) -> str:
    import json

    return json.dumps(text, ensure_ascii=False)


def build(mkdocs_file: Path, settings: Config, catalog: Catalog, site_dir: Path, jobs: int = 1) -> int:
    """Render the store into `site_dir`, the datalab pages in `jobs` processes; returns the
    size of the search index in bytes."""
    from mkdocs.commands.build import build as mkdocs_build

    logging.getLogger("mkdocs").setLevel(logging.WARNING)
    mk = load_config(config_file=str(mkdocs_file), site_dir=str(site_dir))
    plugin = mk.plugins.get(PLUGIN)
    if plugin is None:
        raise RuntimeError(f"{mkdocs_file} does not enable the {PLUGIN} plugin")
    plugin.preset = (settings, catalog)
    plugin.jobs = jobs
    mkdocs_build(mk)
    return plugin.search_bytes
