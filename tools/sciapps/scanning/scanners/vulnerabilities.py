"""Known vulnerabilities: the image's packages against OSV advisories (local mirror)."""

from __future__ import annotations

from sciapps.scanning.base import ScanFinding
from sciapps.scanning.target import Target
from sciapps.scanning.osv import Mirror, fixed_version, severity_of


def components(inventory: dict) -> list[tuple[str, str, str, str]]:
    """(ecosystem, name to match, version, name to show) of every package in the image."""
    release = inventory["os"].get("VERSION_ID", "")
    out = []
    for deb in inventory["deb"]:  # OSV's Debian advisories name source packages
        out.append((f"Debian:{release}", deb["source"], deb["source_version"], deb["name"]))
    for dist in inventory["python"]:
        out.append(("PyPI", dist["name"], dist["version"], dist["name"]))
    return out


def match(mirror: Mirror, packages: list[tuple[str, str, str, str]], scanner: str = "osv") -> list[ScanFinding]:
    """The advisories that cover `packages` (ecosystem, name to match, version, name to
    show): one finding per advisory and package version. The scan and `sciapps audit` both."""
    found: dict[tuple, ScanFinding] = {}
    for ecosystem, name, version, shown in packages:
        for record, affected in mirror.matches(ecosystem, name, version):
            aliases = tuple(record.get("aliases", []) + record.get("upstream", []))
            key = (record["id"], name, version)
            if key in found:
                continue  # one source package, several binary packages
            found[key] = ScanFinding(
                scanner,
                record["id"],
                severity_of(record, affected),
                "vulnerability",
                record.get("summary") or record.get("details", "")[:120] or record["id"],
                package=shown if ecosystem == "PyPI" else name,
                version=version,
                ecosystem=ecosystem,
                fixed=fixed_version(affected),
                aliases=aliases,
                url=f"https://osv.dev/vulnerability/{record['id']}",
            )
    return list(found.values())


class VulnerabilityScanner:
    name = "osv"
    needs_image = True

    def skip_reason(self, target: Target) -> str | None:
        return None

    def scan(self, target: Target) -> list[ScanFinding]:
        return match(Mirror.load(target.osv_mirror), components(target.inventory), self.name)
