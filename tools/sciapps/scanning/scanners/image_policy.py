"""Image policy: non-root user, the approved base, required labels, no new setuid
binaries, size within the budget."""

from __future__ import annotations

from sciapps.buildfiles import REQUIRED_LABELS
from sciapps.scanning.base import ScanFinding
from sciapps.scanning.target import Target


class ImagePolicyScanner:
    name = "image-policy"
    needs_image = True

    def skip_reason(self, target: Target) -> str | None:
        return None

    def scan(self, target: Target) -> list[ScanFinding]:
        inv = target.inventory
        config = inv["config"]
        found = []

        def add(rule: str, title: str, severity: str = "high", file: str | None = None) -> None:
            found.append(ScanFinding(self.name, rule, severity, "policy", title, file))

        user = (config.get("User") or "").split(":")[0]
        if user in ("", "root", "0"):
            add("non-root-user", f"the image runs as {user or 'root (no USER)'}")
        if target.base_image:
            base = target.base_inventory
            if inv["layers"][: len(base["layers"])] != base["layers"]:
                add("approved-base", "the image is not built on the approved base image it names")
            new = sorted(set(inv["setuid"]) - set(base["setuid"]))
            for path in new:
                add("new-setuid", f"new setuid/setgid file {path}", file=path)
        else:
            add("approved-base", "no approved base image is recorded for it (run `sciapps base-images build`)")
        labels = config.get("Labels") or {}
        for key in REQUIRED_LABELS:
            if not labels.get(key):
                add("required-labels", f"label {key} is missing", "medium")
        size_mb = inv["size"] / 1e6
        if size_mb > target.image_size_mb:
            add("image-size", f"the image is {size_mb:,.0f} MB, over the {target.image_size_mb:,.0f} MB budget")
        return found
