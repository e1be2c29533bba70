"""Generated catalogs for the benchmarks: N valid, realistic datalabs.

Names, summaries and descriptions are assembled from a vocabulary of real mission,
instrument and method terms, so the search index has a realistic size; every datalab
has a notebook, a screenshot, an icon and a requirements file, like the examples.
"""

from __future__ import annotations

import io
import random
from pathlib import Path

import yaml
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
# the mission data collections the catalog's sciapps.yaml mounts: every generated data asset is one of them
COLLECTIONS = yaml.safe_load((REPO / "sciapps.yaml").read_text(encoding="utf-8"))["collections"]
NOTEBOOK = (REPO / "tests" / "datalabs" / "valid" / "full" / "notebooks" / "main.ipynb").read_bytes()

MISSIONS = ["gaia", "xmm-newton", "planck", "euclid", "jwst", "herschel", "integral", "bepicolombo", "hst", "rosetta",
            "mars-express", "solar-orbiter", "cheops", "juice", "soho", "hipparcos"]  # fmt: skip
CATEGORIES = ["astrometry", "catalogues", "cosmology", "data-visualisation", "education", "high-energy", "imaging",
              "machine-learning", "photometry", "planetary-science", "solar-physics", "spectroscopy",
              "stellar-astrophysics", "time-domain", "tools"]  # fmt: skip
LICENSES = ["BSD-3-Clause", "MIT", "Apache-2.0", "GPL-3.0-or-later", "CC-BY-4.0", "LGPL-3.0-or-later"]
TOPICS = """light curve periodogram spectrum fit colour magnitude diagram proper motion parallax cross-match catalogue
    source detection aperture photometry point spread function calibration mosaic image cutout radial velocity
    power spectrum map projection redshift distribution weak lensing shear galaxy morphology cluster member
    dust temperature spectral energy distribution emission line absorption column density pulsar timing burst
    occultation transit exoplanet asteroid comet nucleus surface topography magnetic field solar wind flare
    coronal mass ejection heliosphere spectrogram time series anomaly classification neural network clustering
    dimensionality reduction visualisation explorer viewer pipeline workflow tutorial""".split()
METHODS = """Lomb-Scargle Bayesian MCMC maximum-likelihood Gaussian-process random-forest PCA t-SNE UMAP wavelet
    Fourier deconvolution forward-folding bootstrap kriging HEALPix astropy numpy scipy pandas matplotlib
    healpy photutils specutils lightkurve astroquery sherpa xspec topcat ds9 aladin""".split()
WORDS = """the notebook reads data from the archive selects sources with quality cuts computes derived quantities
    and plots them interactively it compares results with published values shows how to reproduce a figure
    from a paper and exports tables for further analysis uses sample data shipped with the datalab mounts the
    full mission collection read-only when launched in ESA Datalabs and runs offline on the small sample for
    testing each step is explained with references to the mission documentation and calibration notes""".split()
FIRST = "Ana Marta Jorge Chiara Pieter Aisha Lena Tomas Ines Yuki Omar Sofia Karl Elena Ravi Noor".split()
LAST = "Lindqvist Ruiz Benedetti Vries Okonkwo Novak Costa Tanaka Haddad Moreau Fischer Rossi Kaur Jansen".split()


def _png(seed: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (160, 100), (seed % 255, (seed * 7) % 255, 120)).save(buf, "PNG")
    return buf.getvalue()


def _parameters(i: int, mission: str, collection: str) -> str:
    """Launch parameters as the example datalabs declare them: the id of the mission data
    the catalog declares for the collection (when it declares one), and a bounded number.
    Desktop datalabs (every ninth) take none."""
    declared = COLLECTIONS[mission][collection]
    kinds = declared.get("ids", {}) if isinstance(declared, dict) else {}
    if i % 9 == 0 or not kinds:
        return ""
    kind, spec = sorted(kinds.items())[0]
    return (
        "parameters:\n"
        f'  - {{name: {kind}, label: {spec["label"]}, type: string, default: "{spec["example"]}",\n'
        f"     selects: {{mission: {mission}, collection: {collection}, kind: {kind}}}}}\n"
        "  - {name: threshold, label: Threshold, type: number, min: 0, max: 10, default: 3}\n"
    )


def generate(root: Path, count: int, seed: int = 1) -> Path:
    """Write `count` datalabs under root/datalabs; return that folder."""
    rng = random.Random(seed)
    catalog = root / "datalabs"
    shot = _png(seed)
    for i in range(count):
        lab_id = f"datalab-{i:05d}"
        missions = rng.sample(MISSIONS, rng.choice([1, 1, 1, 2, 3]))
        if missions[0] not in COLLECTIONS:  # its data asset is a collection the catalog mounts (DL-064)
            missions = [rng.choice(sorted(COLLECTIONS)), *(m for m in missions if m in MISSIONS)][:3]
            missions = list(dict.fromkeys(missions))
        topic = " ".join(rng.sample(TOPICS, 2))
        method = rng.choice(METHODS)
        name = f"{missions[0].upper().replace('-', ' ')} {topic} with {method} {i}"
        summary = (
            f"{topic.capitalize()} for {', '.join(missions)} data using {method}, {rng.choice(TOPICS)} and {rng.choice(TOPICS)}."
        )
        sentences = [
            " ".join(rng.choices(WORDS + TOPICS + METHODS, k=rng.randint(8, 16))) + "." for _ in range(rng.randint(4, 8))
        ]
        people = [(rng.choice(FIRST), rng.choice(LAST)) for _ in range(rng.choice([1, 1, 2]))]
        maintainers = "".join(
            f"  - name: {first} {last}\n    email: {first.lower()}.{last.lower()}@example.esa.int\n"
            f"    username: {first[0].lower()}{last.lower()}\n"
            for first, last in people
        )
        year, month = rng.randint(2022, 2026), rng.randint(1, 12)
        status = "archived" if i % 25 == 7 else "published"
        archived = (
            "archived:\n  reason: Superseded by a newer datalab for the same data.\n  date: 2026-01-15\n"
            if status == "archived"
            else ""
        )
        keywords = rng.sample(sorted(set(TOPICS + METHODS)), 4)
        lab = catalog / lab_id
        collection = sorted(COLLECTIONS[missions[0]])[i % len(COLLECTIONS[missions[0]])]
        (lab / "notebooks").mkdir(parents=True)
        (lab / "screenshots").mkdir()
        (lab / "datalab.yaml").write_text(
            f"""id: {lab_id}
name: "{name}"
summary: "{summary}"
description: |
  {" ".join(sentences[:3])}

  {" ".join(sentences[3:])}
version: 1.{i % 7}.{i % 3}
type: {"vnc" if i % 9 == 0 else "jupyterlab"}
entry: {"topcat" if i % 9 == 0 else "notebooks/main.ipynb"}
missions: [{", ".join(missions)}]
categories: [{", ".join(rng.sample(CATEGORIES, rng.randint(1, 3)))}]
keywords: [{", ".join(keywords)}]
maintainers:
{maintainers}license: {rng.choice(LICENSES)}
data_assets:
  - mission: {missions[0]}
    collection: {collection}
    mount: /data/{missions[0]}/main
resources: {{cpu: {rng.choice([1, 2, 4])}, memory_gb: {rng.choice([2, 4, 8])}, max: {{cpu: 8, memory_gb: 16}}}}
{_parameters(i, missions[0], collection)}screenshots:
  - file: screenshots/main.png
    caption: The main plot of datalab {i}
icon: icon.png
status: {status}
{archived}changelog:
  - version: 1.{i % 7}.{i % 3}
    date: "{year}-{month:02d}-{rng.randint(1, 28):02d}"
    changes: [Generated for the benchmark]
""",
            encoding="utf-8",
        )
        (lab / "notebooks" / "main.ipynb").write_bytes(NOTEBOOK)
        (lab / "screenshots" / "main.png").write_bytes(shot)
        (lab / "icon.png").write_bytes(shot)
        (lab / "requirements.txt").write_text("numpy==2.2.6\n")
    return catalog
