"""Run Tessera's benchmarks and write their reports to docs/benchmarks/ (`make bench`).

    .venv/bin/python bench/run.py                 # every benchmark
    .venv/bin/python bench/run.py --only pages    # one (or a comma-separated few)
    .venv/bin/python bench/run.py --help          # every flag, with its default

A benchmark is a module of this package with NAME, DESCRIPTION, `add_arguments(parser)`
and `run(arguments)`; adding one means adding it to BENCHMARKS below.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
from pathlib import Path
from types import FrameType
from typing import Protocol

if __package__ in (None, ""):
    # Run as a script: make the `bench` package importable from the repository root.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg

from bench import (
    containers,
    django_lambda,
    functions,
    headless,
    loadgen,
    pages,
    placements,
    processing,
    progress,
    server,
)
from scripts import container_stack

REPO_ROOT = Path(__file__).resolve().parent.parent
# The failures a benchmark reports with a message of its own rather than a traceback.
EXPECTED_FAILURES = (
    progress.BenchmarkFailure,
    # pages.py's own (it predates bench/progress.py).
    pages.BenchmarkFailure,
    loadgen.LoadGeneratorError,
    server.ServerError,
    psycopg.OperationalError,
    subprocess.CalledProcessError,
    container_stack.StackError,
)


class Benchmark(Protocol):
    """What run.py needs of a benchmark module."""

    NAME: str
    DESCRIPTION: str

    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, arguments: argparse.Namespace) -> None: ...


BENCHMARKS: dict[str, Benchmark] = {
    pages.NAME: pages,
    processing.NAME: processing,
    functions.NAME: functions,
    headless.NAME: headless,
    placements.NAME: placements,
    containers.NAME: containers,
    django_lambda.NAME: django_lambda,
}


def names_parse(value: str) -> list[str]:
    """A comma-separated list of benchmark names, each one known."""
    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = sorted(set(names) - set(BENCHMARKS))
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown benchmark {', '.join(unknown) or '(none)'}; "
            f"choose from {', '.join(BENCHMARKS)}"
        )
    return names


def parser_build() -> argparse.ArgumentParser:
    """The command line: benchmark selection, shared load flags, each benchmark's flags."""
    parser = argparse.ArgumentParser(
        description="Run Tessera's benchmarks and write docs/benchmarks/.",
        epilog="Benchmarks: "
        + "; ".join(f"{name}: {module.DESCRIPTION}" for name, module in BENCHMARKS.items()),
    )
    parser.add_argument(
        "--only",
        type=names_parse,
        default=list(BENCHMARKS),
        metavar="NAME[,NAME]",
        help=f"run only these benchmarks (default: all of {', '.join(BENCHMARKS)})",
    )
    parser.add_argument(
        "--output-dir",
        default=str(REPO_ROOT / "docs" / "benchmarks"),
        help="where the reports go (default: docs/benchmarks)",
    )
    loadgen.add_arguments(parser)
    for module in BENCHMARKS.values():
        module.add_arguments(parser)
    return parser


def terminate_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit, so every `finally` (stopping servers) still runs."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)


def main(argv: list[str] | None = None) -> int:
    """Run the selected benchmarks in order; stop at the first that fails."""
    arguments = parser_build().parse_args(argv)
    terminate_on_sigterm()
    for name in arguments.only:
        try:
            BENCHMARKS[name].run(arguments)
        except EXPECTED_FAILURES as error:
            print(f"\nBENCHMARK {name} FAILED: {error}", file=sys.stderr, flush=True)
            return 1
        except KeyboardInterrupt:
            print(f"\nbenchmark {name} interrupted", file=sys.stderr, flush=True)
            return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
