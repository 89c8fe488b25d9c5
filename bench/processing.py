"""Processing service benchmark: renditions/s through the service (submit -> done, a worker
with two processes) against a raw pyvips loop and Pillow with the same process count, in one
run; the round trip of the smallest job (p50/p99); the worker's peak memory.

    .venv/bin/python bench/run.py --only processing

The report is written by bench/processing_report.py.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import signal
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from multiprocessing import Pool
from pathlib import Path

import httpx
from tessera_contract.messaging import PROCESSING_JOB_QUEUES

from bench.processes import process_tree
from bench.processing_report import report_markdown
from bench.server import free_port
from scripts import components

NAME = "processing"
DESCRIPTION = "renditions/s via the service vs raw pyvips vs Pillow; small-job round trip; memory"
REPO_ROOT = Path(__file__).resolve().parents[1]
SERVICE_DIR = REPO_ROOT / "services" / "processing"
WIDTHS = [320, 640, 1280]
RENDITIONS_QUEUE = PROCESSING_JOB_QUEUES["image_renditions"]
KEYS = "bench:bench-only-service-token-key-of-32-bytes"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """This benchmark's own flags."""
    group = parser.add_argument_group(NAME)
    group.add_argument("--images", type=int, default=40, help="source images (2400x1600 JPEG)")
    group.add_argument("--processes", type=int, default=2, help="worker processes on each side")
    group.add_argument("--round-trips", type=int, default=100, help="small jobs for p50/p99")
    group.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="service runs, each between two raw pyvips runs (the median ratio is reported)",
    )
    group.add_argument(
        "--broker-url",
        default=None,
        help="default: the local RabbitMQ's vhost tessera-bench-processing_<run> (created, "
        "deleted at exit)",
    )


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
    """The best plain pyvips loop for the service's work: one decode (shrink-on-load to the
    largest width), the smaller widths from that intermediate, both formats, files written."""
    import pyvips

    data = Path(path).read_bytes()
    out = Path(path).parent.parent / "raw" / Path(path).stem
    out.mkdir(parents=True, exist_ok=True)
    largest = pyvips.Image.thumbnail_buffer(
        data, max(WIDTHS), height=100_000, size="down"
    ).copy_memory()
    for width in sorted(WIDTHS):
        thumb = (
            largest
            if width >= largest.width
            else largest.thumbnail_image(width, height=100_000, size="down").copy_memory()
        )
        (out / f"w{width}.webp").write_bytes(thumb.write_to_buffer(".webp", Q=80, keep="none"))
        (out / f"w{width}.jpg").write_bytes(
            thumb.write_to_buffer(".jpg", Q=82, keep="none", optimize_coding=True, interlace=True)
        )
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


def cpu_ms_per_raw_image(paths: list[Path]) -> float:
    """The raw loop's CPU per image, in this process (libvips' threads included)."""
    started = time.process_time()
    for path in paths[:8]:
        pyvips_renditions(str(path))
    return (time.process_time() - started) * 1000 / len(paths[:8])


def pool_rate(function: Callable[[str], int], paths: list[Path], processes: int) -> float:
    with Pool(processes) as pool:
        pool.map(function, [str(paths[0])])  # warm up imports in every process
        started = time.perf_counter()
        made = sum(pool.map(function, [str(p) for p in paths], chunksize=1))
        return made / (time.perf_counter() - started)


def token() -> str:
    from tessera_contract.signing.service_tokens import ServiceTokenIssuer, ServiceTokenKeyring

    issuer = ServiceTokenIssuer(
        ServiceTokenKeyring.parse(KEYS), issuer="monolith", audience="processing"
    )
    return issuer.authorization_header()


def jobs_run(api: str, bodies: list[dict[str, object]], poll: float = 0.002) -> list[float]:
    """Submit every body, wait for all; return each job's submit -> done seconds.

    Only the oldest unfinished job is polled (one GET per interval, however many jobs): the
    poller and the API share the cores with the workers, and their cost is not the
    service's. A job that finished before an older one is seen when that one is, so its time
    is an upper bound; the last job's, which gives the throughput, is exact to one interval.
    """
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
        pending = list(submitted)
        while pending:
            job_id = pending[0]
            job = client.get(f"/api/v1/jobs/{job_id}", headers={"Authorization": token()}).json()
            if job["status"] == "succeeded":
                done[job_id] = time.perf_counter()
                pending.pop(0)
                continue
            if job["status"] in {"failed", "dead_lettered", "cancelled"}:
                raise RuntimeError(f"benchmark job {job_id} ended {job['status']}: {job['error']}")
            time.sleep(poll)
    return [done[job_id] - submitted[job_id] for job_id in submitted]


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU the processes have used so far (threads included)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        # Fields after the command name (which may hold spaces): utime and stime are 14, 15.
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / ticks


def peak_memory_mib(pid: int) -> float:
    """The largest VmHWM among the worker and its pool children."""
    peaks = []
    for each in process_tree(pid):
        for line in Path(f"/proc/{each}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peaks.append(int(line.split()[1]) / 1024)
    return max(peaks)


def run(arguments: argparse.Namespace) -> None:
    from tessera_testsupport import rabbitmq_vhost_url

    broker_url = arguments.broker_url or rabbitmq_vhost_url(
        "amqp://guest:guest@127.0.0.1:5672//", "tessera-bench-processing"
    )
    workdir = Path(tempfile.mkdtemp(prefix="tessera-bench-processing-"))
    media = workdir / "media"
    (media / "sources").mkdir(parents=True)
    paths = images_make(media / "sources", arguments.images)
    load_before = os.getloadavg()[0]
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
        "CELERY_BROKER_URL": broker_url,
        "MONOLITH_CALLBACK_URL": f"http://127.0.0.1:{free_port()}",
        "DJANGO_LOG_LEVEL": "ERROR",
    }
    subprocess.run(
        components.manage("processing", "migrate", "-v", "0"), env=env, cwd=SERVICE_DIR, check=True
    )
    # Messages a crashed earlier run left behind would be worked before this run's.
    subprocess.run(
        components.celery("processing", "purge", "-f", "-Q", RENDITIONS_QUEUE),
        env=env,
        cwd=SERVICE_DIR,
        check=True,
        capture_output=True,
    )
    api = subprocess.Popen(
        components.gunicorn_direct("processing.wsgi", port, workers=2, log_level="error"),
        env=env,
        start_new_session=True,
    )
    worker = subprocess.Popen(
        components.celery_worker(
            "processing",
            *("-Q", RENDITIONS_QUEUE, "-c", str(arguments.processes)),
            *("--without-gossip", "--without-mingle", "-l", "ERROR"),
        ),
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
        # Raw and service runs alternate, and each service run is compared with the mean of the
        # raw runs either side: the machine is shared, and a load that comes and goes would
        # otherwise land on one side only. The service idles during the raw runs.
        raws = [pool_rate(pyvips_renditions, paths, arguments.processes)]
        services = []
        # Where the service's CPU goes, per job: API, the worker's main process, its pool.
        roles = {
            "api": process_tree(api.pid),
            "worker_main": [worker.pid],
            "pool": process_tree(worker.pid)[1:],
            "polling_client": [os.getpid()],
        }
        used = dict.fromkeys(roles, 0.0)
        for _ in range(arguments.rounds):
            before = {role: cpu_seconds(pids) for role, pids in roles.items()}
            started = time.perf_counter()
            jobs_run(
                api_url,
                [body(f"sources/{p.name}", WIDTHS, ["webp", "jpeg"]) for p in paths],
                0.1,
            )
            services.append(len(paths) * len(WIDTHS) * 2 / (time.perf_counter() - started))
            for role, pids in roles.items():
                used[role] += cpu_seconds(pids) - before[role]
            raws.append(pool_rate(pyvips_renditions, paths, arguments.processes))
        cpu_ms_per_job = {
            role: round(seconds * 1000 / (arguments.rounds * len(paths)), 1)
            for role, seconds in used.items()
        }
        raw_cpu = cpu_ms_per_raw_image(paths)
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
    ratios = [
        service / ((before + after) / 2)
        for service, before, after in zip(services, raws, raws[1:], strict=False)
    ]
    service, raw = statistics.median(services), statistics.median(raws)
    p50 = statistics.median(trips) * 1000
    p99 = trips[min(len(trips) - 1, int(len(trips) * 0.99))] * 1000
    report = {
        "images": len(paths),
        "processes": arguments.processes,
        "broker": broker_url.split("://")[0],
        "renditions_per_second": {
            "service": round(service, 1),
            "raw_pyvips": round(raw, 1),
            "pillow": round(pillow, 1),
        },
        "rounds": {
            "service": [round(rate, 1) for rate in services],
            "raw_pyvips": [round(rate, 1) for rate in raws],
            "ratio": [round(ratio, 2) for ratio in ratios],
        },
        "ratio_service_to_raw_pyvips": round(statistics.median(ratios), 2),
        "ratio_service_to_pillow": round(service / pillow, 2),
        "smallest_job_round_trip_ms": {"p50": round(p50, 1), "p99": round(p99, 1)},
        "worker_peak_memory_mib": round(memory, 1),
        "cpu_ms_per_job": {**cpu_ms_per_job, "raw_pyvips_loop": round(raw_cpu, 1)},
        # The machine is shared: the 1-minute load average when the run began and ended.
        "load_average": [round(load_before, 1), round(os.getloadavg()[0], 1)],
        "cpus": os.cpu_count(),
    }
    out = Path(arguments.output_dir) / "processing.json"
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    out.with_suffix(".md").write_text(report_markdown(report, widths=WIDTHS), encoding="utf-8")
    print(json.dumps(report, indent=2), flush=True)
