"""SBOM: a CycloneDX document of the image's Debian and Python packages, read from the image."""

from __future__ import annotations

from functools import lru_cache

from sciapps.scanning.base import ScanFinding
from sciapps.scanning.target import Target

SBOM_FILE = "sbom.cdx.json"
OS_VERSION_PROPERTY = "sciapps:os-version-id"
SOURCE_VERSION_PROPERTY = "sciapps:deb-source-version"
DEBIAN_RELEASES = {"buster": "10", "bullseye": "11", "bookworm": "12", "trixie": "13"}  # SBOMs written before the property


def sbom_packages(sbom: dict) -> list[tuple[str, str, str, str]]:
    """(ecosystem, name to match, version, name to show) of the packages an SBOM this
    scanner wrote lists, as the vulnerability scanner matches an image's; what is not such a
    package (another format, a damaged entry) is passed over. A Python package is read from
    the component's name and version (the purl only says it is one: parsing 150 purls per
    SBOM was most of an audit's time); a Debian one from its purl's qualifiers."""
    metadata = sbom.get("metadata") if isinstance(sbom.get("metadata"), dict) else {}
    props = {p.get("name"): p.get("value") for p in metadata.get("properties") or [] if isinstance(p, dict)}
    out = []
    for component in sbom.get("components") or []:
        if not isinstance(component, dict):
            continue
        purl, name, version = component.get("purl"), component.get("name"), component.get("version")
        if not (isinstance(purl, str) and isinstance(name, str) and isinstance(version, str) and name and version):
            continue
        if purl.startswith("pkg:pypi/"):
            out.append(("PyPI", name[:200], version[:100], name[:200]))
        elif purl.startswith("pkg:deb/"):
            parsed = _deb(purl[:2000])
            if parsed is None:
                continue
            source, distro = parsed
            release = props.get(OS_VERSION_PROPERTY) or DEBIAN_RELEASES.get(distro, "")
            own = {p.get("name"): p.get("value") for p in component.get("properties") or [] if isinstance(p, dict)}
            source_version = own.get(SOURCE_VERSION_PROPERTY)
            out.append(
                (f"Debian:{release}", source or name[:200], str(source_version or version.split("+b")[0])[:100], name[:200])
            )
    return out


@lru_cache(maxsize=65536)
def _deb(purl: str) -> tuple[str | None, str] | None:
    """(source package, distro) of a deb purl; None when it is not one."""
    from packageurl import PackageURL

    try:
        parsed = PackageURL.from_string(purl)
    except ValueError:
        return None
    qualifiers = parsed.qualifiers or {}
    return (str(qualifiers["upstream"]) if qualifiers.get("upstream") else None), str(qualifiers.get("distro", ""))


def write_sbom(target: Target) -> int:
    from cyclonedx.model.bom import Bom
    from cyclonedx.model import Property
    from cyclonedx.model.component import Component, ComponentType
    from cyclonedx.output.json import JsonV1Dot5
    from packageurl import PackageURL

    inv = target.inventory
    release = inv["os"].get("VERSION_CODENAME") or inv["os"].get("VERSION_ID", "")
    bom = Bom()
    bom.metadata.component = Component(name=target.lab.id, version=str(target.lab.get("version")), type=ComponentType.CONTAINER)
    # what `sciapps audit` matches OSV's Debian advisories with: the release's number, the source versions
    bom.metadata.properties.add(Property(name=OS_VERSION_PROPERTY, value=str(inv["os"].get("VERSION_ID", ""))))
    seen = set()
    for deb in inv["deb"]:
        purl = PackageURL(
            "deb", "debian", deb["name"], deb["version"], {"arch": deb["arch"], "distro": release, "upstream": deb["source"]}
        )
        if purl.to_string() not in seen:
            seen.add(purl.to_string())
            bom.components.add(
                Component(
                    name=deb["name"],
                    version=deb["version"],
                    type=ComponentType.LIBRARY,
                    purl=purl,
                    bom_ref=purl.to_string(),
                    properties=[Property(name=SOURCE_VERSION_PROPERTY, value=str(deb["source_version"]))],
                )
            )
    for dist in inv["python"]:
        purl = PackageURL("pypi", None, dist["name"].lower(), dist["version"])
        if purl.to_string() not in seen:
            seen.add(purl.to_string())
            bom.components.add(
                Component(
                    name=dist["name"], version=dist["version"], type=ComponentType.LIBRARY, purl=purl, bom_ref=purl.to_string()
                )
            )
    bom.register_dependency(bom.metadata.component, bom.components)  # flat: everything the image holds
    target.workdir.mkdir(parents=True, exist_ok=True)
    (target.workdir / SBOM_FILE).write_text(JsonV1Dot5(bom).output_as_string(indent=2), encoding="utf-8")
    return len(bom.components)


class SbomScanner:
    name = "sbom"
    needs_image = True

    def skip_reason(self, target: Target) -> str | None:
        return None

    def scan(self, target: Target) -> list[ScanFinding]:
        count = write_sbom(target)
        return [ScanFinding(self.name, "sbom", "info", "sbom", f"{count} components in {SBOM_FILE}", SBOM_FILE)]
