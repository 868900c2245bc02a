"""Real file-system faults for the SQLite store: a tiny tmpfs that fills up, and a
read-only bind mount. Mounting needs root (CI runs as root, see .ci/run)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def _run(*command: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.fail(
            f"{' '.join(command)} failed ({done.stderr.strip()}): these tests mount file "
            "systems and need root or CAP_SYS_ADMIN, as CI has"
        )


@contextmanager
def tmpfs(path: Path, size_kib: int) -> Iterator[Path]:
    """A tmpfs of ``size_kib`` KiB mounted on ``path`` (created)."""
    path.mkdir(parents=True, exist_ok=True)
    _run("mount", "-t", "tmpfs", "-o", f"size={size_kib}k", "tmpfs", str(path))
    try:
        yield path
    finally:
        _run("umount", "--lazy", str(path))


@contextmanager
def read_only(path: Path) -> Iterator[Path]:
    """``path`` mounted over itself, read-only: every write under it fails with EROFS."""
    _run("mount", "--bind", str(path), str(path))
    try:
        _run("mount", "-o", "remount,ro,bind", str(path))
        yield path
    finally:
        _run("umount", "--lazy", str(path))


def fill(directory: Path) -> Path:
    """Fill the file system of ``directory`` up; the filler file, to delete for room."""
    filler = directory / "filler"
    with filler.open("wb", buffering=0) as sink:
        try:
            while sink.write(b"\0" * 4096):
                pass
        except OSError:
            pass
    return filler
