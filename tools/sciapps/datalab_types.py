"""What each datalab `type` means: the one table every type-specific behaviour reads.

A type names the approved base image a basic-mode datalab is built on, the port its
service listens on, the environment variables its entry point reads, how to tell that
it is ready (locally and in Kubernetes) and where a browser opens it. The datalab
schema's `type` enum and `entry` patterns, the chart's type map and the scaffolds are
generated from or read from here (`sciapps schema generate --check` finds a stale
copy), so adding a type is one entry here plus its base image.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DatalabType:
    name: str  # the `type` value in datalab.yaml
    title: str  # what a scientist reads
    label: str  # the short name of the type on the store's pages
    pitch: str  # one sentence for the Create page's choice of type
    service: str  # the server that answers in the container
    opens: str  # the schema's words for what `entry` is
    base: str  # the approved base image of basic mode
    port: int  # the service's port inside the container (Kubernetes)
    port_variable: str  # the variable the entry point reads the port from
    entry_variable: str  # the variable that carries `entry`
    entry_pattern: str  # what `entry` must match
    entry_is_file: bool  # `entry` names a file of the datalab (a notebook)
    probe_path: str  # HTTP path that answers 200 once the service is ready
    local_path: str  # where a browser opens a local run, after the host ({entry} and {token} filled in)
    launch_path: str  # where a browser opens it in the cluster, after the host
    token_variable: str | None = None  # the variable carrying an access token, if the service takes one
    host_variable: str | None = None  # the variable naming the address to listen on, if any
    display_variable: str | None = None  # the variable naming the X display (one per container on a host network)
    extra_ports: tuple[str, ...] = ()  # more variables naming a port (local runs pick a free one for each)
    greets_rfb: str | None = None  # a port variable whose server must greet with the RFB protocol
    app_process: bool = False  # `entry` is a program whose process must be running
    python_target: str = "/opt/datalab/site-packages"  # where basic mode installs requirements.txt
    python_in_venv: bool = False  # ... into a virtual environment at python_target instead


TYPES: dict[str, DatalabType] = {
    t.name: t
    for t in (
        DatalabType(
            name="jupyterlab",
            title="JupyterLab in the browser",
            label="JupyterLab",
            pitch="Your notebooks in JupyterLab, in the browser.",
            service="JupyterLab",
            opens="the notebook, a path ending in `.ipynb`",
            base="jl_base",
            port=8888,
            port_variable="DATALAB_PORT",
            entry_variable="DATALAB_ENTRY",
            entry_pattern=r"\.ipynb$",
            entry_is_file=True,
            probe_path="/api",
            local_path="lab/tree/{entry}?token={token}",
            launch_path="",
            token_variable="DATALAB_TOKEN",
            host_variable="DATALAB_IP",
        ),
        DatalabType(
            name="vnc",
            title="a Linux desktop in the browser through noVNC",
            label="Desktop (VNC)",
            pitch="A Linux desktop application (TOPCAT, DS9…) in the browser.",
            service="noVNC",
            opens="the command of the desktop application to start, for example `topcat`",
            base="x_base",
            port=6080,
            port_variable="NOVNC_PORT",
            entry_variable="DATALAB_APP",
            entry_pattern=r"^[A-Za-z0-9][A-Za-z0-9._+-]*$",
            entry_is_file=False,
            probe_path="/vnc.html",
            local_path="vnc.html?autoconnect=1&resize=remote",
            launch_path="vnc.html?autoconnect=1&resize=remote",
            extra_ports=("VNC_PORT",),
            greets_rfb="VNC_PORT",
            display_variable="DISPLAY_NUMBER",
            app_process=True,
            python_target="/opt/datalab/venv",
            python_in_venv=True,
        ),
    )
}


def type_of(meta: dict) -> DatalabType | None:
    """The table entry of a datalab's metadata, or None when its `type` is not one."""
    value = meta.get("type") if isinstance(meta, dict) else None
    return TYPES.get(value) if isinstance(value, str) else None


def chart_types() -> dict:
    """The chart's copy of the table: what its templates branch on, keyed by type."""
    return {
        t.name: {
            "port": t.port,
            "portVariable": t.port_variable,
            "entryVariable": t.entry_variable,
            "tokenVariable": t.token_variable or "",
            "probePath": t.probe_path,
            "launchPath": t.launch_path,
        }
        for t in TYPES.values()
    }
