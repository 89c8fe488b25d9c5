"""Processing service benchmark: renditions/s through the service (submit -> done, a worker
with two processes) against a raw pyvips loop and Pillow with the same process count, in one
run; the round trip of the smallest job (p50/p99); the worker's peak memory.

    .venv/bin/python bench/run.py --only processing
"""

from __future__ import annotations

import argparse
import io
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from multiprocessing import Pool
from pathlib import Path
from typing import Any

import httpx

NAME = "processing"
DESCRIPTION = "renditions/s via the service vs raw pyvips vs Pillow; small-job round trip; memory"
REPO_ROOT = Path(__file__).resolve().parents[1]
SERVICE_DIR = REPO_ROOT / "services" / "processing"
BIN = Path(sys.executable).parent
WIDTHS = [320, 640, 1280]
KEYS = "bench:bench-only-service-token-key-of-32-bytes"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """This benchmark's own flags."""
    group = parser.add_argument_group(NAME)
    group.add_argument("--images", type=int, default=40, help="source images (2400x1600 JPEG)")
    group.add_argument("--processes", type=int, default=2, help="worker processes on each side")
    group.add_argument("--round-trips", type=int, default=100, help="small jobs for p50/p99")
    group.add_argument("--broker-url", default="redis://127.0.0.1:6379/14")


def images_make(folder: Path, count: int) -> list[Path]:
    from PIL import Image

    paths = []
    for number in range(count):
        image = Image.effect_noise((2400, 1600), 40 + number).convert("RGB")
        path = folder / f"source-{number}.jpg"
        image.save(path, "JPEG", quality=90)
        paths.append(path)
    return paths


def pyvips_renditions(path: str) -> int:
    import pyvips

    data = Path(path).read_bytes()
    for width in WIDTHS:
        thumb = pyvips.Image.thumbnail_buffer(
            data, width, height=100_000, size="down"
        ).copy_memory()
        thumb.write_to_buffer(".webp", Q=80, keep="none")
        thumb.write_to_buffer(".jpg", Q=82, keep="none", optimize_coding=True, interlace=True)
    return len(WIDTHS) * 2


def pillow_renditions(path: str) -> int:
    from PIL import Image, ImageOps

    with Image.open(path) as opened:
        source = ImageOps.exif_transpose(opened).convert("RGB")
        for width in WIDTHS:
            copy = source.copy()
            copy.thumbnail((width, 100_000), Image.Resampling.LANCZOS)
            copy.save(io.BytesIO(), "WEBP", quality=80)
            copy.save(io.BytesIO(), "JPEG", quality=82, optimize=True, progressive=True)
    return len(WIDTHS) * 2


def pool_rate(function: Callable[[str], int], paths: list[Path], processes: int) -> float:
    with Pool(processes) as pool:
        pool.map(function, [str(paths[0])])  # warm up imports in every process
        started = time.perf_counter()
        made = sum(pool.map(function, [str(p) for p in paths], chunksize=1))
        return made / (time.perf_counter() - started)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def token() -> str:
    from tessera_contract.signing.service_tokens import ServiceTokenIssuer, ServiceTokenKeyring

    issuer = ServiceTokenIssuer(
        ServiceTokenKeyring.parse(KEYS), issuer="monolith", audience="processing"
    )
    return issuer.authorization_header()


def jobs_run(api: str, bodies: list[dict[str, object]], poll: float = 0.002) -> list[float]:
    """Submit every body, wait for all; return each job's submit -> done seconds."""
    submitted: dict[str, float] = {}
    with httpx.Client(base_url=api, timeout=30) as client:
        for body in bodies:
            response = client.post(
                "/api/v1/jobs",
                json=body,
                headers={"Authorization": token(), "Idempotency-Key": os.urandom(8).hex()},
            )
            response.raise_for_status()
            submitted[response.json()["job_id"]] = time.perf_counter()
        done: dict[str, float] = {}
        while len(done) < len(submitted):
            for job_id in set(submitted) - set(done):
                job = client.get(
                    f"/api/v1/jobs/{job_id}", headers={"Authorization": token()}
                ).json()
                if job["status"] == "succeeded":
                    done[job_id] = time.perf_counter()
                elif job["status"] in {"failed", "dead_lettered", "cancelled"}:
                    raise RuntimeError(
                        f"benchmark job {job_id} ended {job['status']}: {job['error']}"
                    )
            time.sleep(poll)
    return [done[job_id] - submitted[job_id] for job_id in submitted]


def peak_memory_mib(pid: int) -> float:
    """The largest VmHWM among the worker and its pool children."""
    pids = [
        pid,
        *map(
            int,
            subprocess.run(
                ["pgrep", "-P", str(pid)], capture_output=True, text=True
            ).stdout.split(),
        ),
    ]
    peaks = []
    for each in pids:
        for line in Path(f"/proc/{each}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peaks.append(int(line.split()[1]) / 1024)
    return max(peaks)


def report_markdown(report: dict[str, Any]) -> str:
    """The human-readable twin of processing.json."""
    rates, round_trip = report["renditions_per_second"], report["smallest_job_round_trip_ms"]
    return "\n".join(
        [
            "# Processing benchmark",
            "",
            f"{report['images']} generated 2400×1600 JPEGs, each made into WebP and JPEG at "
            f"{', '.join(str(width) for width in WIDTHS)} px, with {report['processes']} "
            f"processes on each side, broker {report['broker']}. Written by "
            "`make bench` (`bench/run.py --only processing`); raw figures in "
            "[processing.json](processing.json).",
            "",
            "| Renditions per second | Value | Service ÷ this |",
            "|---|--:|--:|",
            f"| Through the service (submit → done) | {rates['service']} | 1.0 |",
            f"| Raw pyvips loop, same images and processes | {rates['raw_pyvips']} | "
            f"{report['ratio_service_to_raw_pyvips']} |",
            f"| Pillow doing the same renditions | {rates['pillow']} | "
            f"{report['ratio_service_to_pillow']} |",
            "",
            f"Round trip of the smallest job (a 16 px JPEG; the contract has no no-op kind): "
            f"p50 {round_trip['p50']} ms, p99 {round_trip['p99']} ms. "
            "Worker peak memory during the renditions run: "
            f"{report['worker_peak_memory_mib']} MiB.",
            "",
            "The target for the service is at least 0.8 of the raw pyvips loop; see the "
            "processing issue's notes for where the remaining cost lies (database writes per "
            "job, the API, workers and polling client sharing two cores).",
            "",
        ]
    )


def run(arguments: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="tessera-bench-processing-"))
    media = workdir / "media"
    (media / "sources").mkdir(parents=True)
    paths = images_make(media / "sources", arguments.images)
    raw = pool_rate(pyvips_renditions, paths, arguments.processes)
    pillow = pool_rate(pillow_renditions, paths, arguments.processes)

    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "processing.settings.production",
        "DJANGO_SECRET_KEY": "bench",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "SERVICE_TOKEN_KEYS": KEYS,
        "JOB_RESULT_CALLBACK_SECRETS": "whsec_YmVuY2gtb25seS1jYWxsYmFjay1zZWNyZXQ=",
        "PROCESSING_DATABASE_URL": f"sqlite:///{workdir / 'processing.sqlite3'}",
        "PROCESSING_MEDIA_ROOT": str(media),
        "TESSERA_VAR_DIR": str(workdir),
        "CELERY_BROKER_URL": arguments.broker_url,
        "MONOLITH_CALLBACK_URL": f"http://127.0.0.1:{free_port()}",
        "DJANGO_LOG_LEVEL": "ERROR",
    }
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v", "0"], env=env, cwd=SERVICE_DIR, check=True
    )
    api = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "processing.wsgi",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            "2",
            "--log-level",
            "error",
        ],
        env=env,
        start_new_session=True,
    )
    worker = subprocess.Popen(
        [
            str(BIN / "celery"),
            "-A",
            "processing",
            "worker",
            "-Q",
            "tessera.processing.renditions",
            "-c",
            str(arguments.processes),
            "--without-gossip",
            "--without-mingle",
            "-l",
            "ERROR",
        ],
        env=env,
        cwd=SERVICE_DIR,
        start_new_session=True,
        stderr=subprocess.DEVNULL,
    )
    try:
        api_url = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                if httpx.get(f"{api_url}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)

        def body(path: str, widths: list[int], formats: list[str]) -> dict[str, object]:
            return {
                "kind": "image_renditions",
                "subject": {"type": "product_image", "reference": "1"},
                "input": {"source_location": path, "widths": widths, "formats": formats},
            }

        jobs_run(
            api_url,
            [body(f"sources/{paths[0].name}", WIDTHS, ["webp", "jpeg"])] * arguments.processes,
        )  # warm up
        started = time.perf_counter()
        # Polled slowly: the client and the API share the machine's cores with the worker.
        jobs_run(
            api_url, [body(f"sources/{p.name}", WIDTHS, ["webp", "jpeg"]) for p in paths], 0.25
        )
        service = len(paths) * len(WIDTHS) * 2 / (time.perf_counter() - started)
        memory = peak_memory_mib(worker.pid)
        from PIL import Image

        Image.new("RGB", (16, 16), (1, 2, 3)).save(media / "sources" / "tiny.png")
        trips = sorted(
            jobs_run(api_url, [body("sources/tiny.png", [16], ["jpeg"])])[0]
            for _ in range(arguments.round_trips)
        )
    finally:
        for process in (api, worker):
            os.killpg(process.pid, signal.SIGTERM)
            process.wait()
    p50 = statistics.median(trips) * 1000
    p99 = trips[min(len(trips) - 1, int(len(trips) * 0.99))] * 1000
    report = {
        "images": len(paths),
        "processes": arguments.processes,
        "broker": arguments.broker_url.split("://")[0],
        "renditions_per_second": {
            "service": round(service, 1),
            "raw_pyvips": round(raw, 1),
            "pillow": round(pillow, 1),
        },
        "ratio_service_to_raw_pyvips": round(service / raw, 2),
        "ratio_service_to_pillow": round(service / pillow, 2),
        "smallest_job_round_trip_ms": {"p50": round(p50, 1), "p99": round(p99, 1)},
        "worker_peak_memory_mib": round(memory, 1),
    }
    out = REPO_ROOT / "docs" / "benchmarks" / "processing.json"
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    out.with_suffix(".md").write_text(report_markdown(report), encoding="utf-8")
    print(json.dumps(report, indent=2), flush=True)
