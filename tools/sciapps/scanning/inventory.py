"""What an image contains, read from the image itself.

A throw-away container (no network, removed afterwards) runs a short Python program
with the image's own interpreter: it reads /etc/os-release, dpkg's status database and
the metadata of every installed Python distribution, and lists setuid/setgid files.
"""

from __future__ import annotations

import json

from sciapps.engine import CommandNotFound, Container, Engine, EngineError
from sciapps.scanning.base import ScannerError

PROBE = r"""
import glob, json, os, stat
out = {"os": {}, "deb": [], "python": [], "setuid": []}
try:
    for line in open("/etc/os-release"):
        k, _, v = line.strip().partition("=")
        out["os"][k] = v.strip('"')
except OSError:
    pass
entry = {}
def flush():
    if entry.get("Package") and "installed" in entry.get("Status", ""):
        src = entry.get("Source", entry["Package"])
        name, _, ver = src.partition(" ")
        out["deb"].append({"name": entry["Package"], "version": entry.get("Version", ""),
                           "arch": entry.get("Architecture", ""),
                           "source": name, "source_version": ver.strip("()") or entry.get("Version", "")})
try:
    for line in open("/var/lib/dpkg/status", encoding="utf-8", errors="replace"):
        if not line.strip():
            flush(); entry = {}
        elif not line[0].isspace() and ":" in line:
            k, _, v = line.partition(":")
            entry[k] = v.strip()
    flush()
except OSError:
    pass
seen = set()
roots = ["/usr/lib/python3/dist-packages", "/opt/datalab/site-packages"]
roots += glob.glob("/usr/local/lib/python3*/*-packages") + glob.glob("/opt/*/lib/python3*/site-packages")
roots += glob.glob("/opt/datalab/venv/lib/python3*/site-packages")
for root in roots:
    for meta in glob.glob(root + "/*.dist-info/METADATA") + glob.glob(root + "/*.egg-info/PKG-INFO"):
        name = version = None
        try:
            for line in open(meta, encoding="utf-8", errors="replace"):
                if line.startswith("Name:") and name is None: name = line[5:].strip()
                elif line.startswith("Version:") and version is None: version = line[8:].strip()
                elif not line.strip(): break
        except OSError:
            continue
        if name and version and (name.lower(), version, root) not in seen:
            seen.add((name.lower(), version, root))
            out["python"].append({"name": name, "version": version, "location": root})
walked = set()
for top in ("/bin", "/sbin", "/usr", "/opt", "/etc", "/home", "/var", "/lib", "/root", "/srv", "/tmp"):
    real = os.path.realpath(top)
    if real in walked or any(real.startswith(w + "/") for w in walked):
        continue  # /lib -> /usr/lib on merged-/usr systems
    walked.add(real)
    for folder, dirs, files in os.walk(real):
        for f in files:
            p = os.path.join(folder, f)
            try:
                m = os.lstat(p).st_mode
            except OSError:
                continue
            if stat.S_ISREG(m) and m & (stat.S_ISUID | stat.S_ISGID):
                out["setuid"].append(p)
print(json.dumps(out))
"""


_BY_IMAGE_ID: dict[str, dict] = {}


def probe_cached(image_id: str) -> dict:
    """`probe` for an image addressed by id: its content cannot change, so read it once."""
    if image_id not in _BY_IMAGE_ID:
        _BY_IMAGE_ID[image_id] = probe(image_id)
    return _BY_IMAGE_ID[image_id]


def probe(image: str | None) -> dict:
    if not image:
        raise ScannerError("no image to read: build the datalab first (sciapps build)")
    try:
        engine = Engine()
    except EngineError as exc:
        raise ScannerError(exc.message) from None
    try:
        container = engine.create(image, ["python3", "-c", PROBE], user="0", labels={"int.esa.datalabs.sciapps": "scan"})
    except EngineError as exc:
        raise ScannerError(f"could not read the image's contents: {exc.message}") from None
    try:
        try:
            container.start()
            code = container.wait(timeout=180)
            if code != 0:
                raise ScannerError(
                    f"could not read the image's contents (python3 exited {code}): {container.logs(stdout=False)[-500:]}"
                )
            data = json.loads(container.logs(stderr=False).strip().splitlines()[-1])
        except CommandNotFound:
            data = probe_by_export(container)  # an image without Python: read its files
    except ScannerError:
        raise
    except Exception as exc:
        raise ScannerError(f"could not read the image's contents: {type(exc).__name__}: {exc}") from None
    finally:
        try:
            engine.remove(container)
        except EngineError:
            pass
    data["size"] = engine.image(image)["Size"]
    data["config"] = engine.image(image)["Config"]
    data["layers"] = engine.image(image)["RootFS"]["Layers"]
    return data


MAX_DPKG_STATUS_BYTES = 256 * 1024 * 1024  # a full Debian system's is a few MiB


def probe_by_export(container: Container) -> dict:
    """The same inventory from the container's exported file system (slower; no Python needed)."""
    import re
    import stat
    import tarfile

    out: dict = {"os": {}, "deb": [], "python": [], "setuid": []}
    meta = re.compile(r"(.*-packages)/[^/]+\.(dist-info/METADATA|egg-info/PKG-INFO)$")
    stream = container.export()

    class Reader:
        def __init__(self, chunks):
            self.chunks, self.buf = iter(chunks), b""

        def read(self, n=-1):
            while n < 0 or len(self.buf) < n:
                try:
                    self.buf += next(self.chunks)
                except StopIteration:
                    break
            data, self.buf = (self.buf, b"") if n < 0 else (self.buf[:n], self.buf[n:])
            return data

    def text(member, limit: int) -> str:
        """A file of the image, read up to `limit` bytes: an image can hold a file of any size."""
        return tar.extractfile(member).read(limit).decode("utf-8", "replace")

    with tarfile.open(fileobj=Reader(stream), mode="r|") as tar:
        for member in tar:
            name = "/" + member.name.lstrip("./")
            if member.isreg() and member.mode & (stat.S_ISUID | stat.S_ISGID):
                out["setuid"].append(name)
            if not member.isreg():
                continue
            if name in ("/etc/os-release", "/usr/lib/os-release") and not out["os"]:
                for line in text(member, 64 * 1024).splitlines():
                    k, _, v = line.partition("=")
                    out["os"][k] = v.strip('"')
            elif name == "/var/lib/dpkg/status":
                entry: dict = {}
                for line in text(member, MAX_DPKG_STATUS_BYTES).splitlines() + [""]:
                    if not line.strip():
                        if entry.get("Package") and "installed" in entry.get("Status", ""):
                            src, _, ver = entry.get("Source", entry["Package"]).partition(" ")
                            out["deb"].append(
                                {
                                    "name": entry["Package"],
                                    "version": entry.get("Version", ""),
                                    "arch": entry.get("Architecture", ""),
                                    "source": src,
                                    "source_version": ver.strip("()") or entry.get("Version", ""),
                                }
                            )
                        entry = {}
                    elif not line[0].isspace() and ":" in line:
                        k, _, v = line.partition(":")
                        entry[k] = v.strip()
            elif meta.match(name):
                fields = {}
                for line in text(member, 1024 * 1024).splitlines():  # its headers come first
                    if not line.strip():
                        break
                    k, _, v = line.partition(":")
                    fields.setdefault(k, v.strip())
                if fields.get("Name") and fields.get("Version"):
                    out["python"].append(
                        {"name": fields["Name"], "version": fields["Version"], "location": meta.match(name).group(1)}
                    )
    return out
