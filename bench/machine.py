"""What a benchmark ran on, recorded with its figures so they can be compared honestly."""

from __future__ import annotations

import os
import platform
import subprocess
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo, or the platform's processor string."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def package_versions(*names: str) -> dict[str, str]:
    """Installed versions of the given distributions."""
    return {name: metadata.version(name) for name in names}


def git_output(*args: str) -> str:
    """What a read-only git command prints about the repository, or "" if git fails."""
    completed = subprocess.run(
        ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )
    return completed.stdout.strip() if completed.returncode == 0 else ""


def git_revision() -> dict[str, str | bool]:
    """The commit measured, and whether the work tree differed from it."""
    return {
        "commit": git_output("rev-parse", "HEAD") or "unknown",
        "dirty": bool(git_output("status", "--porcelain")),
    }


def machine_describe() -> dict[str, object]:
    """Cores, CPU, memory, OS and Python of this machine, its load, and the time (UTC).

    Call it before the run starts: the load average then tells whether something else
    was already busy on the machine.
    """
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "cpu": cpu_model(),
        "memory_gib": memory_gib(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "load_average_before": [round(value, 2) for value in os.getloadavg()],
        "git": git_revision(),
    }


def memory_gib() -> float | None:
    """Total memory in GiB from /proc/meminfo, where there is one."""
    meminfo = Path("/proc/meminfo")
    if not meminfo.exists():
        return None
    for line in meminfo.read_text().splitlines():
        if line.startswith("MemTotal:"):
            return round(int(line.split()[1]) / 1024 / 1024, 1)
    return None
