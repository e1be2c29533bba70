"""SBOM: a CycloneDX document of the image's Debian and Python packages, read from the image."""

from __future__ import annotations

from sciapps.scanning.base import ScanFinding
from sciapps.scanning.target import Target

SBOM_FILE = "sbom.cdx.json"


def write_sbom(target: Target) -> int:
    from cyclonedx.model.bom import Bom
    from cyclonedx.model.component import Component, ComponentType
    from cyclonedx.output.json import JsonV1Dot5
    from packageurl import PackageURL

    inv = target.inventory
    release = inv["os"].get("VERSION_CODENAME") or inv["os"].get("VERSION_ID", "")
    bom = Bom()
    bom.metadata.component = Component(name=target.lab.id, version=str(target.lab.get("version")), type=ComponentType.CONTAINER)
    seen = set()
    for deb in inv["deb"]:
        purl = PackageURL("deb", "debian", deb["name"], deb["version"], {"arch": deb["arch"], "distro": release, "upstream": deb["source"]})
        if purl.to_string() not in seen:
            seen.add(purl.to_string())
            bom.components.add(Component(name=deb["name"], version=deb["version"], type=ComponentType.LIBRARY, purl=purl, bom_ref=purl.to_string()))
    for dist in inv["python"]:
        purl = PackageURL("pypi", None, dist["name"].lower(), dist["version"])
        if purl.to_string() not in seen:
            seen.add(purl.to_string())
            bom.components.add(Component(name=dist["name"], version=dist["version"], type=ComponentType.LIBRARY, purl=purl, bom_ref=purl.to_string()))
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
