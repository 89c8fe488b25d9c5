"""The load generator: wrk from Debian's packages, driven through a small Lua script.

The script counts non-2xx responses in every thread and, when the run is done, prints one
line of JSON with the totals and the latency percentiles, so nothing is scraped from
wrk's human-readable output.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

RESULT_MARKER = "TESSERA_WRK_RESULT "

# wrk gives each thread its own Lua state: `setup` keeps a handle on every thread so `done`
# can add up their non-2xx counters. Latencies are in microseconds.
LUA_SCRIPT = r"""
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  non2xx = 0
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
end

function done(summary, latency, requests)
  local non2xx_total = 0
  for _, thread in ipairs(threads) do
    non2xx_total = non2xx_total + thread:get("non2xx")
  end
  local e = summary.errors
  io.write(string.format(
    "TESSERA_WRK_RESULT {\"requests\": %d, \"duration_us\": %d, \"bytes\": %d, " ..
    "\"non2xx\": %d, \"errors\": {\"connect\": %d, \"read\": %d, \"write\": %d, " ..
    "\"status\": %d, \"timeout\": %d}, \"latency_us\": {\"p50\": %d, \"p90\": %d, " ..
    "\"p99\": %d, \"max\": %d, \"mean\": %.1f}}\n",
    summary.requests, summary.duration, summary.bytes, non2xx_total,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean))
end
"""


class LoadGeneratorError(RuntimeError):
    """wrk is missing, could not run, or saw errors that make its figures meaningless."""


@dataclass(frozen=True)
class LoadSettings:
    """How hard and how long wrk drives a target."""

    duration_s: int
    warmup_s: int
    threads: int
    connections: int
    timeout_s: int


@dataclass(frozen=True)
class LoadResult:
    """What one wrk run measured."""

    requests: int
    duration_s: float
    bytes_read: int
    non_2xx: int
    socket_errors: dict[str, int]
    latency_ms: dict[str, float]

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.duration_s

    @property
    def failures(self) -> int:
        """Responses outside 2xx plus socket-level errors (connect, read, write, timeout)."""
        return self.non_2xx + sum(
            count for kind, count in self.socket_errors.items() if kind != "status"
        )


def wrk_ensure() -> str:
    """The path of wrk, installed from Debian's packages when it is missing."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0:
        raise LoadGeneratorError("wrk is not installed; run `sudo apt-get install -y wrk`.")
    print("==> installing wrk from Debian's packages", flush=True)
    if apt_get("install", "-y", "wrk") != 0:
        # A fresh machine may have no package lists yet.
        apt_get("update")
        if apt_get("install", "-y", "wrk") != 0:
            raise LoadGeneratorError("`apt-get install -y wrk` failed; see the output above.")
    found = shutil.which("wrk")
    if not found:
        raise LoadGeneratorError("apt-get reported success but wrk is still not on PATH.")
    return found


def apt_get(*arguments: str) -> int:
    """Run apt-get quietly; its output is shown only when it fails."""
    completed = subprocess.run(
        ["apt-get", "-q", *arguments],
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        print(completed.stdout + completed.stderr, flush=True)
    return completed.returncode


def wrk_version(wrk: str) -> str:
    """wrk's version, e.g. `wrk 4.1.0-3+b2 [epoll]`, from `wrk -v` (which exits non-zero)."""
    completed = subprocess.run([wrk, "-v"], capture_output=True, text=True, check=False)
    lines = (completed.stdout or completed.stderr).splitlines()
    if not lines:
        return "unknown"
    return lines[0].split(" Copyright", 1)[0].replace("debian/", "").strip()


def lua_script_write(directory: Path) -> Path:
    """Write the reporting Lua script into `directory` and return its path."""
    path = directory / "report.lua"
    path.write_text(LUA_SCRIPT, encoding="utf-8")
    return path


def wrk_run(
    *,
    wrk: str,
    script: Path,
    url: str,
    duration_s: int,
    settings: LoadSettings,
    headers: dict[str, str] | None = None,
) -> LoadResult:
    """Drive `url` for `duration_s` seconds and return what the Lua script reported.

    `headers` go with every request (a session cookie, to measure a signed-in shopper).
    """
    command = [
        wrk,
        f"--threads={settings.threads}",
        f"--connections={settings.connections}",
        f"--duration={duration_s}s",
        f"--timeout={settings.timeout_s}s",
        f"--script={script}",
        *(f"--header={name}: {value}" for name, value in (headers or {}).items()),
        url,
    ]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise LoadGeneratorError(
            f"wrk exited with {completed.returncode} on {url}:\n{completed.stderr}"
        )
    return result_parse(completed.stdout, url=url)


def result_parse(output: str, *, url: str) -> LoadResult:
    """The LoadResult from the Lua script's marker line in wrk's output."""
    for line in output.splitlines():
        if line.startswith(RESULT_MARKER):
            raw = json.loads(line.removeprefix(RESULT_MARKER))
            break
    else:
        raise LoadGeneratorError(f"wrk printed no result line for {url}:\n{output}")
    if raw["requests"] == 0:
        raise LoadGeneratorError(f"wrk completed no request against {url}:\n{output}")
    return LoadResult(
        requests=raw["requests"],
        duration_s=raw["duration_us"] / 1_000_000,
        bytes_read=raw["bytes"],
        non_2xx=raw["non2xx"],
        socket_errors=dict(raw["errors"]),
        latency_ms={name: value / 1000 for name, value in raw["latency_us"].items()},
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags every HTTP benchmark shares: how long and how hard wrk drives a target."""
    group = parser.add_argument_group("load (wrk)")
    group.add_argument("--duration", type=int, default=10, help="seconds measured per target")
    group.add_argument("--warmup", type=int, default=2, help="seconds of unmeasured warm-up")
    group.add_argument("--threads", type=int, default=2, help="wrk threads")
    group.add_argument("--connections", type=int, default=8, help="open connections in all")
    group.add_argument("--timeout", type=int, default=5, help="seconds before a request fails")


def load_settings_from(options: argparse.Namespace) -> LoadSettings:
    """LoadSettings from the parsed flags, rejecting values wrk would misread."""
    settings = LoadSettings(
        duration_s=options.duration,
        warmup_s=options.warmup,
        threads=options.threads,
        connections=options.connections,
        timeout_s=options.timeout,
    )
    if min(settings.duration_s, settings.threads, settings.timeout_s) < 1:
        raise LoadGeneratorError("--duration, --threads and --timeout must be at least 1.")
    if settings.warmup_s < 0 or settings.connections < settings.threads:
        raise LoadGeneratorError("--warmup must be >= 0 and --connections >= --threads.")
    return settings
