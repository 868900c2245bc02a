"""Run the mock under uvicorn on a socket bound here, before uvicorn starts.

Binding first gives the real port, ``--port 0`` included, to print and to write to a
port file for scripts, and makes "the port is in use" a clean refusal rather than a
race between a probe and uvicorn's own bind.
"""

from __future__ import annotations

import copy
import os
import socket
from pathlib import Path
from typing import Any

import uvicorn
from uvicorn.config import LOGGING_CONFIG
from uvicorn.supervisors import Multiprocess

from mock_server.limits import Limits
from mock_server.limits.connections import protocol, server_options


class PortInUseError(OSError):
    """Nothing can listen on the address asked for."""


def listen(host: str, port: int) -> socket.socket:
    """A socket listening on ``host:port`` (0: a free port the system picks)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    if os.name != "nt":
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as error:
        sock.close()
        raise PortInUseError(error.errno, error.strerror) from None
    sock.set_inheritable(True)
    return sock


def bound_port(sock: socket.socket) -> int:
    port: int = sock.getsockname()[1]
    return port


def write_port_file(path: Path, port: int) -> None:
    """Write the port, whole or not at all: a script polling the file never reads half."""
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(f"{port}\n")
    partial.replace(path)


def log_config(access_log: bool) -> dict[str, Any]:
    """uvicorn's logging, quiet but for warnings, plus one line per request with
    ``--access-log`` and the mock's own hints (logger ``capmock``) on stderr."""
    config = copy.deepcopy(LOGGING_CONFIG)
    loggers = config["loggers"]
    loggers["uvicorn"]["level"] = "WARNING"
    loggers["uvicorn.error"]["level"] = "WARNING"
    loggers["uvicorn.access"]["level"] = "INFO" if access_log else "WARNING"
    loggers["capmock"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config


def run(
    app: Any,
    sock: socket.socket,
    *,
    workers: int,
    access_log: bool,
    limits: Limits | None = None,
) -> None:
    """Serve ``app`` (an ASGI app, or with workers the import path of the app factory)
    on ``sock`` until interrupted, within ``limits`` (``mock_server/limits``; the
    defaults unless given)."""
    limits = limits or Limits()
    host, port = sock.getsockname()[:2]
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        factory=workers > 1,
        workers=workers,
        http=protocol(limits, workers),
        access_log=access_log,
        log_config=log_config(access_log),
        log_level=None,
        proxy_headers=False,  # nothing to rewrite: a mock is not behind a proxy
        server_header=False,
        **server_options(limits),
    )
    if workers > 1:
        Multiprocess(config, sockets=[sock]).run()
    else:
        uvicorn.Server(config).run(sockets=[sock])
