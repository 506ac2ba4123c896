"""Run one child process and measure it: wall time and peak resident memory (``os.wait4``)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

#: A child whose resident memory passes this is stopped, so a runaway run cannot sink a shared machine.
DEFAULT_RSS_LIMIT_MB = 12_000


@dataclass
class Measured:
    command: list[str]
    wall_s: float
    peak_rss_mb: float
    returncode: int
    stopped_over_mb: float | None = None  # set when the child was stopped for passing the RSS limit
    #: CPU time (user + system, every thread) of the child: steadier than wall time on a shared machine
    cpu_s: float | None = None

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and self.stopped_over_mb is None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["wall_s"] = round(self.wall_s, 3)
        d["peak_rss_mb"] = round(self.peak_rss_mb, 1)
        if self.cpu_s is not None:
            d["cpu_s"] = round(self.cpu_s, 3)
        return d


def python_module(module: str, *args: str) -> list[str]:
    """The command running ``python -m module args`` with this interpreter."""
    return [sys.executable, "-m", module, *args]


def sanjeh_command(*args: str) -> list[str]:
    """The ``sanjeh`` console script of this interpreter's environment."""
    script = Path(sys.executable).with_name("sanjeh")
    return [str(script), *args] if script.exists() else python_module("sanjeh", *args)


def proc_status_mb(pid: int, field: str = "VmRSS") -> float:
    """A memory figure of a running process from ``/proc/PID/status`` (VmRSS now, VmHWM peak), in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def proc_cpu_s(pid: int) -> float:
    """CPU time (user + system, every thread) a running process has used so far, from ``/proc/PID/stat``."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime (fields 14, 15)


def run_measured(
    command: Sequence[str],
    *,
    stdout: Path | None = None,
    rss_limit_mb: float = DEFAULT_RSS_LIMIT_MB,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> Measured:
    """Run ``command`` to its end; stdout goes to ``stdout`` (else discarded), stderr is passed through.

    Peak RSS is the kernel's ``ru_maxrss`` of that one child (and the children it waited for).
    """
    out = stdout.open("wb") if stdout is not None else subprocess.DEVNULL
    stopped: float | None = None
    try:
        start = time.perf_counter()
        proc = subprocess.Popen(list(command), stdout=out, cwd=cwd, env={**os.environ, **(env or {})})
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            rss = proc_status_mb(proc.pid)
            if rss > rss_limit_mb and stopped is None:
                stopped = rss
                os.kill(proc.pid, signal.SIGKILL)
            time.sleep(0.02)
        wall = time.perf_counter() - start
    finally:
        if stdout is not None:
            out.close()  # type: ignore[union-attr]
    proc.returncode = os.waitstatus_to_exitcode(status)
    cpu = usage.ru_utime + usage.ru_stime
    return Measured(list(command), wall, usage.ru_maxrss / 1024, proc.returncode, stopped, cpu)
