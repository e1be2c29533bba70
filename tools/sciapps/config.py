"""Repository settings: `sciapps.yaml` at the root of a catalog repository."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from sciapps.errors import SciAppsError
from sciapps.schema import load_validated

CONFIG_FILE = "sciapps.yaml"
CATALOG_DIR = "datalabs"  # the catalog: one folder per datalab, below the repository's root
# every packaged chart (`<id>-<version>.tgz`, Helm's name): the chart stage writes them, the publication pushes them
CHART_PACKAGES = "build/charts"
PAGES_DIR = "datalabs"  # the store's folder of datalab pages: <store>/datalabs/<id>/
KUBERNETES_NAMESPACE = "datalabs"  # where datalabs are rendered and launched unless told otherwise


@dataclass(frozen=True)
class Limits:
    metadata_kb: int = 256
    file_mb: float = 20
    notebook_mb: float = 10
    image_mb: float = 2
    datalab_mb: float = 100
    max_files: int = 500
    cpu: float = 16  # the most any launch may ask for
    memory_gb: float = 64

    @property
    def metadata_bytes(self) -> int:
        return self.metadata_kb * 1024

    def bytes(self, name: str) -> int:
        return int(getattr(self, name) * 1024 * 1024)


@dataclass(frozen=True)
class GitLab:
    """The catalog's GitLab project (sciapps.yaml `gitlab:`), where datalabs are submitted."""

    url: str
    project: str
    target_branch: str = "main"
    oauth_application_id: str = ""


@dataclass(frozen=True)
class Config:
    path: Path | None = None
    store_title: str = "SciApps"
    store_url: str = "https://sciapps.datalabs.esa.int"
    preview_url: str = ""  # merge requests' previews: another origin than store_url (checked)
    launch_url: str = "https://datalabs.esa.int/launch?datalab={id}&version={version}"
    feedback_url: str = ""
    registry: str = "127.0.0.1:5000/sciapps"
    approved_bases: tuple[str, ...] = ("jl_base", "x_base", "datalabs_ubuntu_base")
    # mission -> {collection -> its volume claim}: the only data a datalab may mount
    collections: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # mission -> {collection -> {kind of id -> {"label", "pattern"[, "example"]}}}: what a launch parameter may select
    id_kinds: Mapping[str, Mapping[str, Mapping[str, Mapping[str, str]]]] = field(default_factory=dict)
    limits: Limits = field(default_factory=Limits)
    featured: tuple[str, ...] = ()
    chains: int = 50  # job chains per child pipeline (`pipeline: chains:`)
    feedback_export: str = "build/feedback.json"
    results_dir: str = "build/results"
    releases_dir: str = "build/releases"
    release_key: str = "keys/release.pub"
    osv_mirror: str = "build/osv"
    scan_policy: str = "scan-policy.yaml"
    gitlab: GitLab | None = None

    @property
    def catalog(self) -> Path:
        """The catalog folder (`datalabs/`)."""
        return self.root / CATALOG_DIR

    def page_url(self, datalab_id: str) -> str:
        """The store page of a datalab."""
        return f"{self.store_url.rstrip('/')}/{PAGES_DIR}/{datalab_id}/"

    @property
    def charts_oci(self) -> str:
        """Where charts are pushed: `oci://<registry host>/charts`, one repository per datalab."""
        return f"oci://{self.registry.split('/')[0]}/charts"

    def path_of(self, relative: str) -> Path:
        """A path from sciapps.yaml, relative to the repository root."""
        return self.root / relative

    @property
    def root(self) -> Path:
        """The catalog repository's root: where sciapps.yaml is, else the working directory."""
        return self.path.parent if self.path else Path.cwd()


@dataclass(frozen=True)
class RegistryLogin:
    """Credentials for the catalog's registry, given per request and never stored: nothing
    is left logged in on the runner."""

    host: str
    username: str
    password: str = field(repr=False)

    def applies_to(self, reference: str) -> bool:
        """Only the catalog's registry ever sees them."""
        return reference.removeprefix("oci://").split("/")[0] == self.host


def is_loopback(host: str) -> bool:
    """Is `host` (`name[:port]`, `[v6][:port]`) this machine? A registry there speaks plain
    HTTP (Debian's docker-registry in tests); anywhere else only HTTPS. Only `localhost` and
    addresses that are loopback addresses count, never a name that merely starts like one
    (`127.0.0.1.example.org`, `127.evil`)."""
    import ipaddress

    if host.startswith("["):
        name, _, rest = host[1:].partition("]")
        if rest and not re.fullmatch(r":\d{1,5}", rest):
            return False
    else:
        name, _, port = host.partition(":")
        if port and not port.isdigit():
            return False
    if name.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


CREDENTIAL_VARIABLES = (("SCIAPPS_REGISTRY_USER", "SCIAPPS_REGISTRY_PASSWORD"), ("CI_REGISTRY_USER", "CI_REGISTRY_PASSWORD"))


def chart_packages(config: "Config") -> Path:
    return config.root / CHART_PACKAGES


def chart_package(config: "Config", datalab_id: str, version: str) -> Path:
    """The packaged chart of one version of a datalab (Helm names it so)."""
    return chart_packages(config) / f"{datalab_id}-{version}.tgz"


def review_repository(config: "Config", datalab_id: str) -> str:
    """Where a merge request's images go: `<registry>/review/<id>`, apart from every release
    (`<registry>/<id>`); never signed, cleaned up by the registry's policy (OPERATIONS.md)."""
    return f"{config.registry.rstrip('/')}/review/{datalab_id}"


def registry_login(config: "Config", environ: Mapping[str, str] = os.environ) -> RegistryLogin | None:
    """The registry credentials of this job: a deploy token's from protected variables
    (SCIAPPS_REGISTRY_USER/PASSWORD), else GitLab's own job credentials (CI_REGISTRY_USER/
    PASSWORD, only when CI_REGISTRY is the catalog's registry); None for an open registry."""
    host = config.registry.split("/")[0]
    for user, password in CREDENTIAL_VARIABLES:
        if environ.get(user) and environ.get(password):
            if user.startswith("CI_") and environ.get("CI_REGISTRY", host) != host:
                continue  # GitLab's registry is not the catalog's: its job token would go to the wrong place
            return RegistryLogin(host, environ[user], environ[password])
    return None


JOB_CREDENTIALS = ("CI_REGISTRY", "CI_REGISTRY_USER", "CI_REGISTRY_PASSWORD", "CI_JOB_TOKEN")


def job_login(config: "Config", environ: Mapping[str, str] = os.environ) -> RegistryLogin | None:
    """GitLab's job credentials only, never the protected publication ones: what a merge
    request's jobs push to and pull from `<registry>/review/<id>` with."""
    return registry_login(config, {k: v for k, v in environ.items() if k in JOB_CREDENTIALS})


REGISTRY_LOGIN_HINT = (
    "give the job the registry's credentials: GitLab's own (CI_REGISTRY_USER, CI_REGISTRY_PASSWORD, "
    "when `registry` in sciapps.yaml is on $CI_REGISTRY) or a deploy token in the protected variables "
    "SCIAPPS_REGISTRY_USER and SCIAPPS_REGISTRY_PASSWORD"
)


REFUSALS = ("unauthorized", "authentication required", "no basic auth credentials", "credential not found", "denied", " 401")


def refused_for_credentials(message: str) -> bool:
    """Does a registry client's error mean the registry wanted (other) credentials?"""
    lowered = message.lower()
    return any(word in lowered for word in REFUSALS)


def find_config(start: Path) -> Path | None:
    start = start.resolve()
    for folder in (start, *start.parents):
        candidate = folder / CONFIG_FILE
        if candidate.is_file():
            return candidate
    return None


def load_config(path: Path | None = None, start: Path | None = None) -> Config:
    """Read sciapps.yaml (the given one, or the nearest above `start`); defaults when there is none."""
    path = path or find_config(start or Path.cwd())
    if path is None:
        return Config()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SciAppsError(f"{path}: cannot read ({exc.strerror})", "check the file's permissions") from None
    except UnicodeDecodeError:
        raise SciAppsError(f"{path}: not UTF-8 text", "save it as UTF-8") from None
    return parse_config(text, path)


DEFAULT_PORTS = {"http": 80, "https": 443}


def origin(url: str) -> tuple[str, str, int | None]:
    """The WHATWG origin of an http(s) URL, as a browser compares origins: the scheme, the
    host percent-decoded and mapped by UTS #46 to its IDNA A-label (so `ſtore.example` is
    `store.example`, and case does not count), and the port, None when it is the scheme's
    default (`host:443` is `host`). SciAppsError when there is none to compare."""
    import idna
    from urllib.parse import unquote, urlsplit

    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise SciAppsError(f"{url[:200]!r} is not a URL ({exc})", "write it as https://host/path") from None
    scheme = parts.scheme.lower()
    host = unquote(parts.hostname or "")
    if scheme not in DEFAULT_PORTS or not host:
        raise SciAppsError(f"{url[:200]!r} is not an http(s) URL with a host", "write it as https://host/path")
    if ":" not in host:  # not an IPv6 literal
        try:
            host = idna.encode(host, uts46=True, transitional=False).decode("ascii")
        except idna.IDNAError as exc:
            raise SciAppsError(f"{url[:200]!r} has no valid host name ({exc})", "write the host as a DNS name") from None
    return scheme, host, None if port == DEFAULT_PORTS[scheme] else port


def _other_origin(preview: str, store: str, where: str) -> str:
    """The preview URL, refused when it shares the store's origin (compared as origins, not
    as text) or carries a user name or password: a preview shows merge-request content
    nobody has reviewed, and the store's pages (the Create page's GitLab token) must be out
    of its reach."""
    if not preview:
        return preview
    from urllib.parse import urlsplit

    if "@" in (urlsplit(preview).netloc or ""):
        raise SciAppsError(
            f"{where}: store.preview_url carries a user name or password (`user@host`)",
            "give the previews' own origin without credentials, e.g. https://previews.example.org",
        )
    try:
        same = origin(preview) == origin(store)
    except SciAppsError as exc:
        raise SciAppsError(f"{where}: store.preview_url or store.url: {exc.message}", exc.hint) from None
    if same:
        raise SciAppsError(
            f"{where}: store.preview_url {preview} has the store's own origin",
            "serve previews from a Pages project or domain of their own (SECURITY.md: previews)",
        )
    return preview.rstrip("/")


def _id_kinds(data: dict, where: str) -> dict:
    """mission -> collection -> kind of id, each pattern in the launch patterns' dialect (DL-066)."""
    from sciapps.launchparams import pattern_problem

    kinds = {  # a collection's `ivoid` goes with each of its kinds: the prefix of its ids as an archive publishes them
        mission: {
            name: {kind: {**spec, **({"ivoid": c["ivoid"]} if c.get("ivoid") else {})} for kind, spec in c["ids"].items()}
            for name, c in found.items()
            if isinstance(c, dict) and c.get("ids")
        }
        for mission, found in data.get("collections", {}).items()
    }
    for mission, collections in kinds.items():
        for collection, ids in collections.items():
            for kind, spec in ids.items():
                problem = pattern_problem(spec.get("pattern"))
                if problem:
                    raise SciAppsError(
                        f"{where}: collections.{mission}.{collection}.ids.{kind}.pattern: {problem}",
                        "write it as DL-066 says (`sciapps rules DL-066`), e.g. '^[0-9]{10}$'",
                    )
    return kinds


def parse_config(text: str, path: Path, shown: str | None = None) -> Config:
    """The settings of one sciapps.yaml text (`shown` names it in messages, e.g. the
    target branch's copy); `path` is where the catalog's root is."""
    data = load_validated(text, "sciapps-config.schema.json", shown or str(path))
    store = data.get("store", {})
    defaults = Config()
    return Config(
        path=path,
        store_title=store.get("title", defaults.store_title),
        store_url=store.get("url", defaults.store_url),
        preview_url=_other_origin(store.get("preview_url", ""), store.get("url", defaults.store_url), shown or str(path)),
        launch_url=data.get("launch_url", defaults.launch_url),
        feedback_url=data.get("feedback_url", defaults.feedback_url),
        registry=data.get("registry", defaults.registry),
        approved_bases=tuple(data.get("approved_bases", defaults.approved_bases)),
        collections={
            mission: {name: (c if isinstance(c, str) else c["claim"]) for name, c in found.items()}
            for mission, found in data.get("collections", {}).items()
        },
        id_kinds=_id_kinds(data, shown or str(path)),
        limits=Limits(**data.get("limits", {})),
        featured=tuple(data.get("featured", ())),
        chains=int(data.get("pipeline", {}).get("chains", 50)),
        feedback_export=data.get("feedback_export", defaults.feedback_export),
        results_dir=data.get("results_dir", defaults.results_dir),
        releases_dir=data.get("releases_dir", defaults.releases_dir),
        release_key=data.get("release_key", defaults.release_key),
        osv_mirror=data.get("osv_mirror", defaults.osv_mirror),
        scan_policy=data.get("scan_policy", defaults.scan_policy),
        gitlab=GitLab(**data["gitlab"]) if "gitlab" in data else None,
    )
