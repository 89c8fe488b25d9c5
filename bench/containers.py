"""What the compose stack costs: image sizes, build time cold and cached, time from `up` to all
healthy, memory per container (docs/benchmarks/containers.md, quoted in docker-compose.md).

The stack is docker-compose.yml with the Debian stand-ins, as `make distributed` and the
container tests run it (scripts/container_stack.py), in a project of its own. Phases:

1. cold: Tessera's images, the stand-ins, the Debian base and the engine's build cache removed,
   then each built again: debootstrap and import, the stand-ins, Tessera's images;
2. cached: Tessera's images built again with nothing changed, then after a change to one
   source file of the monolith (only the layers from its COPY on are rebuilt);
3. `up --wait` from empty volumes until every service is healthy and both migrate jobs done;
4. memory: `docker stats` once every service is healthy and the catalog has been served;
5. down, volumes removed.

Builds download from Debian's mirror, PyPI and npm: their times include the network's.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from bench import machine
from bench.index import index_row_add
from scripts import container_stack
from scripts.container_stack import REPO_ROOT, Stack, output
from scripts.container_stack import run as command_run

NAME = "containers"
DESCRIPTION = "the compose stack: image sizes, cold and cached builds, up to healthy, memory"
PROJECT = "tessera-bench"
ENV_FILE = REPO_ROOT / "var" / "containers-bench" / "compose.env"
# The file whose change stands for an ordinary code change in the cached-rebuild phase.
TOUCHED_SOURCE = REPO_ROOT / "monolith" / "src" / "monolith" / "__init__.py"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(NAME)
    group.add_argument(
        "--containers-keep-base",
        action="store_true",
        help="keep the Debian base and stand-ins (the cold build then starts from them)",
    )


def progress(message: str) -> None:
    print(f"[{NAME}] {message}", flush=True)


def timed(what: str, action: Callable[[], object]) -> float:
    progress(f"{what}…")
    started = time.monotonic()
    action()
    seconds = time.monotonic() - started
    progress(f"{what}: {seconds:.0f} s")
    return seconds


def tessera_images() -> dict[str, int]:
    """Every tessera/* image and its size in bytes."""
    listing = output(["docker", "images", "--format", "{{.Repository}}:{{.Tag}}", "tessera/*"])
    sizes: dict[str, int] = {}
    for name in sorted(listing.stdout.split()):
        size = output(["docker", "image", "inspect", "--format", "{{.Size}}", name]).stdout
        sizes[name] = int(size.strip())
    return sizes


def images_remove(names: list[str]) -> None:
    if names:
        command_run(["docker", "image", "rm", "--force", *names], capture_output=True)
    command_run(["docker", "builder", "prune", "--all", "--force"], capture_output=True)


def memory_per_container(stack: Stack) -> dict[str, float]:
    """Each running container's memory in MiB, by service (one `docker stats` sample)."""
    ids = output(stack.compose("ps", "--quiet")).stdout.split()
    template = "{{.Name}} {{.MemUsage}}"
    sample = output(["docker", "stats", "--no-stream", "--format", template, *ids]).stdout
    memory: dict[str, float] = {}
    prefix = f"{stack.project}-"
    for line in sample.splitlines():
        name, usage = line.split(" ", 1)
        service = name.removeprefix(prefix).rsplit("-", 1)[0]
        memory[service] = mebibytes(usage.split("/")[0].strip())
    return memory


def mebibytes(text: str) -> float:
    units = {"B": 1 / 1024 / 1024, "KiB": 1 / 1024, "MiB": 1.0, "GiB": 1024.0}
    for unit in sorted(units, key=len, reverse=True):
        if text.endswith(unit):
            return round(float(text.removesuffix(unit)) * units[unit], 1)
    raise ValueError(f"not a docker stats size: {text!r}")


def run_benchmark(keep_base: bool) -> dict[str, object]:
    container_stack.engine_ensure()
    stack = Stack(project=PROJECT, env_file=ENV_FILE)
    container_stack.env_file_ensure(ENV_FILE, fresh=True)
    command_run(stack.compose("down", "--volumes", "--remove-orphans"), capture_output=True)
    before = tessera_images()
    removed = [name for name in before if keep_base is False or name.endswith(":local")]
    images_remove(removed)
    build = ["build", "--quiet"]
    cold = {
        "debian_base": 0.0
        if keep_base
        else timed("debootstrap and import the Debian base", container_stack.debian_base_ensure),
        "stand_ins": timed("the stand-ins", container_stack.stand_ins_build),
        "tessera_images": timed("Tessera's images", lambda: command_run(stack.compose(*build))),
    }
    cached = {
        "nothing_changed": timed(
            "rebuild, nothing changed", lambda: command_run(stack.compose(*build))
        )
    }
    original = TOUCHED_SOURCE.read_text()
    try:
        TOUCHED_SOURCE.write_text(original + "\n# touched by bench/containers.py\n")
        cached["one_source_changed"] = timed(
            f"rebuild, {TOUCHED_SOURCE.relative_to(REPO_ROOT)} changed",
            lambda: command_run(stack.compose(*build)),
        )
    finally:
        TOUCHED_SOURCE.write_text(original)
    try:
        up_seconds = timed("up --wait from empty volumes", stack.up)
        httpx.get(f"{container_stack.PUBLIC_URL}/", timeout=30).raise_for_status()
        memory = memory_per_container(stack)
    finally:
        stack.down()
    return {
        "cold_build_seconds": cold,
        "cached_build_seconds": cached,
        "up_to_healthy_seconds": round(up_seconds, 1),
        "image_bytes": tessera_images(),
        "memory_mib": memory,
    }


def run(arguments: argparse.Namespace) -> None:
    output_dir = Path(arguments.output_dir)
    machine_before = machine.machine_describe()
    results = {
        "machine": machine_before,
        **run_benchmark(keep_base=arguments.containers_keep_base),
    }
    (output_dir / f"{NAME}.json").write_text(json.dumps(results, indent=2) + "\n")
    (output_dir / f"{NAME}.md").write_text(report_markdown(results))
    index_row_add(
        output_dir,
        page=f"{NAME}.md",
        row=f"| [Containers]({NAME}.md) ([JSON]({NAME}.json)) | The compose stack on Docker's "
        "engine with the Debian stand-ins: image sizes, cold and cached builds, `up --wait` to "
        "all healthy, memory per container |",
    )
    progress(f"wrote {output_dir / NAME}.md")


def report_markdown(results: dict[str, Any]) -> str:
    cold = results["cold_build_seconds"]
    cached = results["cached_build_seconds"]
    images: dict[str, int] = results["image_bytes"]
    memory: dict[str, float] = results["memory_mib"]
    facts = results["machine"]
    up_seconds = results["up_to_healthy_seconds"]
    lines = [
        "# The compose stack: what it costs",
        "",
        f"`make bench` (bench/containers.py), {facts['date']}, {facts['cores']} cores "
        f"({facts['cpu']}), load before {facts['load_average_before']}. The stack is",
        "docker-compose.yml with the Debian stand-ins (infra/compose/debian-images.yml) on",
        "Docker's engine; builds download from Debian's mirror, PyPI and npm, so their times",
        "include the network's.",
        "",
        "| Build | Seconds |",
        "|---|---|",
        f"| Debian base, cold (debootstrap, import) | {cold['debian_base']:.0f} |",
        f"| Stand-ins, cold (python, postgres, rabbitmq, redis, nginx) | {cold['stand_ins']:.0f} |",
        f"| Tessera's images, cold | {cold['tessera_images']:.0f} |",
        f"| Tessera's images, nothing changed | {cached['nothing_changed']:.0f} |",
        f"| Tessera's images, one source file changed | {cached['one_source_changed']:.0f} |",
        f"| **`up --wait`, empty volumes to all healthy** | **{up_seconds:.0f}** |",
        "",
        "| Image | Size (MB) |",
        "|---|---|",
        *(f"| `{name}` | {size / 1e6:.0f} |" for name, size in images.items()),
        "",
        "Images share their layers: Tessera's four Python images differ only in their last",
        "layers, and each stand-in shares the Debian base.",
        "",
        "| Container (idle, after one catalog page) | Memory (MiB) |",
        "|---|---|",
        *(f"| {service} | {mib:.0f} |" for service, mib in sorted(memory.items())),
        f"| **all {len(memory)}** | **{sum(memory.values()):.0f}** |",
        "",
    ]
    return "\n".join(lines)
