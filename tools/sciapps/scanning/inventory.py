"""What an image contains, read from the image itself.

A throw-away container (no network, removed afterwards) runs a short Python program
with the image's own interpreter: it reads /etc/os-release, dpkg's status database and
the metadata of every installed Python distribution, and lists setuid/setgid files.
"""

from __future__ import annotations

import json

from sciapps.scanning.base import ScannerError

PROBE = r'''
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
for top in ("/bin", "/sbin", "/usr", "/opt", "/etc", "/home", "/var", "/lib", "/root", "/srv", "/tmp"):
    for folder, dirs, files in os.walk(top):
        for f in files:
            p = os.path.join(folder, f)
            try:
                m = os.lstat(p).st_mode
            except OSError:
                continue
            if stat.S_ISREG(m) and m & (stat.S_ISUID | stat.S_ISGID):
                out["setuid"].append(p)
print(json.dumps(out))
'''


def probe(image: str | None) -> dict:
    if not image:
        raise ScannerError("no image to read: build the datalab first (sciapps build)")
    from sciapps.images.engine import Engine, EngineError

    try:
        engine = Engine()
    except EngineError as exc:
        raise ScannerError(exc.message) from None
    container = engine.client.containers.create(
        image, entrypoint=["python3", "-c", PROBE], network_mode="none", user="0", labels={"int.esa.datalabs.sciapps": "scan"}
    )
    try:
        container.start()
        result = container.wait(timeout=180)
        logs = container.logs(stdout=True, stderr=False).decode("utf-8", "replace")
        if result.get("StatusCode") != 0:
            err = container.logs(stdout=False, stderr=True).decode("utf-8", "replace")[-500:]
            raise ScannerError(f"could not read the image's contents (python3 exited {result.get('StatusCode')}): {err}")
        data = json.loads(logs.strip().splitlines()[-1])
    except ScannerError:
        raise
    except Exception as exc:
        raise ScannerError(f"could not read the image's contents: {type(exc).__name__}: {exc}") from None
    finally:
        try:
            container.remove(force=True)
        except Exception:
            pass
    data["size"] = engine.image(image)["Size"]
    data["config"] = engine.image(image)["Config"]
    data["layers"] = engine.image(image)["RootFS"]["Layers"]
    return data
