"""How a benchmark says what it is doing, and how it fails.

Progress lines go to standard output at once, so `make bench` shows them live; a benchmark
fails by raising BenchmarkFailure, which bench/run.py reports without a traceback.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager


class BenchmarkFailure(RuntimeError):
    """The run cannot produce honest figures (a service missing, a process failed, a check of
    the run failed); the message says which."""


def progress(benchmark: str, message: str) -> None:
    """One progress line of ``benchmark``."""
    print(f"==> {benchmark}: {message}", flush=True)


@contextmanager
def phase(benchmark: str, label: str) -> Iterator[None]:
    """Announce a phase of ``benchmark``, then say how long it took."""
    progress(benchmark, f"{label} ...")
    started = time.monotonic()
    yield
    print(f"    done in {time.monotonic() - started:.1f} s", flush=True)
