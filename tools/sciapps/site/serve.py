"""`sciapps serve`: mkdocs' development server with live reload, watching the catalog too."""

from __future__ import annotations

from pathlib import Path

from sciapps.config import Config
from sciapps.errors import SciAppsError


def serve_store(config: Config, catalog: Path, mkdocs_file: Path, dev_addr: str, livereload: bool, drafts: bool = False) -> None:
    import logging

    import click
    from mkdocs.commands.serve import serve

    if not mkdocs_file.is_file():
        raise SciAppsError(f"{mkdocs_file}: no such file", "run in the SciApps repository or pass --mkdocs-config")
    watch = [str(p) for p in (catalog, mkdocs_file.parent / "site", config.path) if p is not None and Path(p).exists()]
    options = {
        "config": str(config.path) if config.path else "sciapps.yaml",
        "catalog": str(catalog.absolute()),
        "drafts": drafts,
    }
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logging.getLogger("mkdocs").addHandler(handler)
    logging.getLogger("mkdocs").setLevel(logging.INFO)
    click.echo(f"Serving the store at http://{dev_addr}/ (Ctrl-C to stop); it rebuilds when {catalog} changes.", err=True)
    try:
        serve(
            config_file=str(mkdocs_file),
            dev_addr=dev_addr,
            livereload=livereload,
            watch=watch,
            plugins={"sciapps-store": options},  # dict form: mkdocs pops items of the list form
        )
    except OSError as exc:
        raise SciAppsError(f"cannot serve on {dev_addr}: {exc.strerror}", "choose another address with --dev-addr") from None
