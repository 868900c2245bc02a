"""CPU time and memory of a process tree, and of the whole machine, through psutil.

A server is the process the harness started plus every descendant: uvicorn workers, a
forked Prism, the JVM's one process. Its CPU time is the user and system time of every
live process in the tree plus what their reaped children used, so a worker that exits
during a run still counts.
"""

from __future__ import annotations

import contextlib

import psutil


def tree(pid: int) -> list[psutil.Process]:
    """``pid`` and its live descendants; none if it is gone."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds used so far by the tree under ``pid``."""
    total = 0.0
    for process in tree(pid):
        with contextlib.suppress(psutil.NoSuchProcess):
            times = process.cpu_times()
            total += times.user + times.system + times.children_user + times.children_system
    return total


def rss_bytes(pid: int) -> int:
    """Resident memory of the tree under ``pid`` (the sum: shared pages count per process)."""
    total = 0
    for process in tree(pid):
        with contextlib.suppress(psutil.NoSuchProcess):
            total += process.memory_info().rss
    return total


def reaped_children_cpu() -> float:
    """CPU seconds of the harness's own children that have exited (wrk, after a run)."""
    times = psutil.Process().cpu_times()
    return times.children_user + times.children_system


def machine_cpu() -> tuple[float, float]:
    """(busy, steal) CPU seconds of the whole machine since boot.

    Busy is every non-idle state except steal; steal is time the hypervisor gave away.
    """
    times = psutil.cpu_times()
    busy = times.user + times.nice + times.system
    busy += getattr(times, "irq", 0.0) + getattr(times, "softirq", 0.0)
    return busy, getattr(times, "steal", 0.0)
