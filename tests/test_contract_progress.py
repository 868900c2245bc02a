"""On a terminal, ``capmock test`` shows progress that moves while the tests run, even
though pytest captures standard output meanwhile: checked through a pseudo-terminal."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
COUNT = re.compile(r"(\d+)/(\d+)")


def run_on_a_terminal(*args: str, columns: int = 160) -> list[tuple[float, str]]:
    """Run ``capmock test`` with a pseudo-terminal as standard output; every chunk it
    wrote, with the time it arrived."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TERM": "xterm-256color"}
    for name in ("NO_COLOR", "CI", "COLUMNS", "LINES"):
        env.pop(name, None)
    process = subprocess.Popen(
        [sys.executable, "-m", "capmock", "test", *args],
        stdout=follower,
        stderr=subprocess.PIPE,
        env=env,
        cwd=ROOT,
    )
    os.close(follower)
    chunks: list[tuple[float, str]] = []
    deadline = time.monotonic() + 300
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 1)
            if not ready:
                if process.poll() is not None:
                    break
                continue
            try:
                data = os.read(leader, 65536)
            except OSError:  # the terminal closed: the process is gone
                break
            if not data:
                break
            chunks.append((time.monotonic(), data.decode("utf-8", "replace")))
    finally:
        process.wait(60)
        os.close(leader)
    assert process.returncode == 0, process.stderr.read().decode() if process.stderr else ""
    return chunks


def test_the_count_and_the_running_test_move_during_the_run() -> None:
    chunks = run_on_a_terminal("--max-examples", "3", "--seed", "1")
    ended = next(at for at, text in chunks if "passed, 0 failed" in text)
    seen: list[tuple[float, int]] = []
    names_while_running = set()
    for at, text in chunks:
        plain = ANSI.sub("", text)
        if at >= ended:
            break
        for done, total in COUNT.findall(plain):
            if int(total) >= 60:
                seen.append((at, int(done)))
        names_while_running.update(re.findall(r"(test_[a-z_]+)\[", plain))
    counts = [done for _, done in seen]
    assert len(set(counts)) >= 10, counts  # many distinct counts were drawn...
    assert counts == sorted(counts)  # ...going up...
    assert seen[-1][0] - seen[0][0] > 1.0  # ...over the run, not all at the end
    assert {"test_documented", "test_odd_input", "test_schema"} <= names_while_running
