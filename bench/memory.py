"""Resident memory of the Spark process (Linux /proc).

In local mode the driver JVM is the whole Spark process: the JVM heap, Arrow's off-heap
buffers and manyfold's native allocations are all in its resident set. Its exact peak comes
from VmHWM, reset before each measurement by writing 5 to /proc/<pid>/clear_refs. The Python
workers of applyInPandas are separate processes (children of the JVM): a sampler adds up their
resident sets every few tens of milliseconds (pages a worker shares with the daemon it was
forked from count once per process, so this errs high).
"""

import os
import threading
import time

PAGE = os.sysconf("SC_PAGE_SIZE")


def status_bytes(pid, field):
    """A `kB` field of /proc/<pid>/status (VmRSS, VmHWM) in bytes; None if unreadable."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def reset_peak(pid):
    """Resets the peak resident set of `pid` to its current one; False if refused."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _children(pid):
    # Each thread lists the children it started: the JVM starts the Python daemon from some
    # thread other than its main one.
    out = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out.extend(int(c) for c in f.read().split())
        except OSError:
            pass
    return out


def descendants(pid):
    out, todo = [], _children(pid)
    while todo:
        child = todo.pop()
        out.append(child)
        todo.extend(_children(child))
    return out


def rss_bytes(pid):
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0


class Peak:
    """Measures one stretch of work: the JVM's exact peak (VmHWM) and the sampled peak of the
    JVM's child processes (the Python workers), as a context manager."""

    def __init__(self, jvm_pid, interval_s=0.05):
        self.jvm_pid = jvm_pid
        self.interval_s = interval_s
        self.jvm_peak = None
        self.workers_peak = 0
        self._stop = threading.Event()
        self._thread = None
        self._exact = False

    def __enter__(self):
        self._exact = reset_peak(self.jvm_pid)
        self._jvm_sampled = 0
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        kids, refreshed = [], 0.0
        while not self._stop.is_set():
            now = time.monotonic()
            if now - refreshed > 0.5:
                kids, refreshed = descendants(self.jvm_pid), now
            self.workers_peak = max(self.workers_peak, sum(rss_bytes(k) for k in kids))
            if not self._exact:
                self._jvm_sampled = max(self._jvm_sampled, rss_bytes(self.jvm_pid))
            self._stop.wait(self.interval_s)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.jvm_peak = status_bytes(self.jvm_pid, "VmHWM") if self._exact else self._jvm_sampled
        return False

    @property
    def exact(self):
        return self._exact
