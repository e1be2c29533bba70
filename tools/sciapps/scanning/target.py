"""What one scan looks at: a datalab's files, its Dockerfile and its image."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from sciapps.catalog.model import Datalab
from sciapps.config import Config
from sciapps.scanning.inventory import probe, probe_cached


@dataclass
class Target:
    """One datalab to scan: its files, its Dockerfile (own or generated), its image."""

    lab: Datalab
    config: Config
    dockerfile: str
    dockerfile_name: str  # "Dockerfile" or "Dockerfile (generated)"
    image: str | None
    base_image: str | None  # image id of the approved base it must be built on
    osv_mirror: Path
    image_size_mb: float
    workdir: Path  # where scanners may write (the SBOM)

    @cached_property
    def inventory(self) -> dict:
        """What is installed in the image (read from the image itself, once)."""
        return probe(self.image)

    @cached_property
    def base_inventory(self) -> dict | None:
        """The approved base image's contents (read once per base image and process)."""
        return probe_cached(self.base_image) if self.base_image else None
