"""The processing benchmark's report, docs/benchmarks/processing.md: the human-readable twin
of processing.json."""

from __future__ import annotations

from typing import Any


def report_markdown(report: dict[str, Any], *, widths: list[int]) -> str:
    """The human-readable twin of processing.json; ``widths``: the renditions' widths."""
    rates, round_trip = report["renditions_per_second"], report["smallest_job_round_trip_ms"]
    rounds = report["rounds"]
    ratios = rounds["ratio"]
    return "\n".join(
        [
            "# Processing benchmark",
            "",
            f"{report['images']} generated 2400×1600 JPEGs, each made into WebP and JPEG at "
            f"{', '.join(str(width) for width in widths)} px, with {report['processes']} "
            f"processes on each side, broker {report['broker']}. Written by "
            "`make bench` (`bench/run.py --only processing`); raw figures in "
            "[processing.json](processing.json).",
            "",
            "| Renditions per second (median of the rounds) | Value | Service ÷ this |",
            "|---|--:|--:|",
            f"| Through the service (submit → done) | {rates['service']} | 1.0 |",
            f"| Raw pyvips loop, same pipeline, images and processes | {rates['raw_pyvips']} | "
            f"{report['ratio_service_to_raw_pyvips']} (rounds: "
            f"{', '.join(str(ratio) for ratio in ratios)}) |",
            f"| Pillow doing the same renditions | {rates['pillow']} | "
            f"{report['ratio_service_to_pillow']} |",
            "",
            f"Round trip of the smallest job (a 16 px JPEG; the contract has no no-op kind): "
            f"p50 {round_trip['p50']} ms, p99 {round_trip['p99']} ms. "
            "Worker peak memory during the renditions run: "
            f"{report['worker_peak_memory_mib']} MiB.",
            "",
            f"The machine is shared: its load average was {report['load_average'][0]} when "
            f"the run began and {report['load_average'][1]} when it ended, on "
            f"{report['cpus']} CPUs. Rates vary from run to run by up to a factor of three, "
            "and the ratios, though measured side by side, by up to 0.4 between rounds: "
            "the CPU each side spends per image (below) is the steadier figure.",
            "",
            "## How it is measured",
            "",
            f"{len(rounds['service'])} rounds; each times every image through the service "
            "(all jobs submitted to the API, then done when the API says so, polling only the "
            "oldest unfinished job every 100 ms) and is compared with the mean of the raw runs "
            "just before and after it, so that load from elsewhere on the shared machine "
            "lands on both sides. The raw loop is the service's pipeline without the service: "
            "one shrink-on-load decode to the largest width, the smaller widths from that "
            "intermediate, both formats encoded with the same options and written to files. "
            "Service and raw loop have two worker processes each; the service also runs its "
            "API (two gunicorn workers), the Celery main process, the broker and the polling "
            "client on the same two cores.",
            "",
            "## What the service does beyond the raw loop",
            "",
            "Per job: the API's POST (token check, idempotency lookup, one transaction with the "
            "job and its outbox row, the publish with a broker confirm, the outbox row's "
            "delete); in the worker, the claim (a locked read and write), one progress write "
            "per width, the finish with the result's outbox row, its publish and delete; the "
            "storage API's exists/save/size calls for 7 files; the placeholder colour; the "
            "polling GETs. CPU per job during the service rounds, by process: "
            + ", ".join(
                f"{role.replace('_', ' ')} {ms} ms"
                for role, ms in report["cpu_ms_per_job"].items()
                if role != "raw_pyvips_loop"
            )
            + f"; the raw loop uses {report['cpu_ms_per_job']['raw_pyvips_loop']} ms per image. "
            "RabbitMQ's share is not counted (its server is shared with other users). On two "
            "cores and CPU-bound, the service cannot beat the ratio of the raw loop's CPU to "
            "the service's (API, worker main process and pool: "
            f"{cpu_ratio(report['cpu_ms_per_job'])}), a figure that the machine's load moves "
            "far less than the rates.",
            "",
            "## What changed since the first measurement (0.5)",
            "",
            "The first run compared 20.8 renditions/s through the service with 41.4/s for a raw "
            "loop that called `thumbnail_buffer` once per width, on Redis, polling every job "
            "every 250 ms. Since: the service decodes each source once (shrink-on-load to the "
            "largest width, the others from that intermediate) and converts to sRGB only for CMYK"
            " or ICC-tagged images (an identity transform of an untagged JPEG cost as much as the"
            " resize); it writes progress once per width instead of once per file; pyvips' INFO "
            "trace (about 30 log lines a job) is off. Timed in one process on a quiet machine, a "
            "job now takes about 290 ms where it took 420. The raw loop was given the same one-"
            "decode pipeline and made to write its files, so the ratio measures the service, not "
            "a pipeline difference; the broker is the vhost `tessera-bench-processing` on "
            "RabbitMQ; the client polls only the oldest unfinished job. WebP at libvips' default "
            "effort (4) is more than half of each job's CPU; effort 2 would halve that at larger "
            "files, a product choice left as it is.",
            "",
        ]
    )


def cpu_ratio(cpu_ms_per_job: dict[str, float]) -> float:
    """The raw loop's CPU per image over the service's per job (the polling client aside)."""
    service = sum(cpu_ms_per_job[role] for role in ("api", "worker_main", "pool"))
    return round(cpu_ms_per_job["raw_pyvips_loop"] / service, 2)
