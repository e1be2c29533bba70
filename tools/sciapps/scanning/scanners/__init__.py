"""Every scanner, in the order they run. Add one: write its module, list it here."""

from __future__ import annotations

from sciapps.scanning.scanners.dockerfile import DockerfileScanner
from sciapps.scanning.scanners.image_policy import ImagePolicyScanner
from sciapps.scanning.scanners.python_code import PythonCodeScanner
from sciapps.scanning.scanners.sbom import SbomScanner
from sciapps.scanning.scanners.secrets import SecretsScanner
from sciapps.scanning.scanners.trivy import TrivyScanner
from sciapps.scanning.scanners.vulnerabilities import VulnerabilityScanner

ALL_SCANNERS = (
    SecretsScanner,
    DockerfileScanner,
    PythonCodeScanner,
    ImagePolicyScanner,
    SbomScanner,
    VulnerabilityScanner,
    TrivyScanner,
)
