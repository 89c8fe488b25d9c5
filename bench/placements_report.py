"""The placements benchmark's report: docs/benchmarks/placements.md, its chart and its row in
the reports' index."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.index import index_row_add
from bench.placements_measures import JOB_KINDS
from bench.placements_stack import SOURCE_SIZE, VHOST

CHART_NAME = "placements.png"


def markdown_render(report: dict[str, Any]) -> str:
    machine_, options = report["machine"], report["options"]
    results, ratio = report["placements"], report["ratios_monolith_to_hybrid"]
    hybrid, monolith = results["hybrid"], results["monolith"]
    software = ", ".join(f"{name} {version}" for name, version in report["software"].items())
    full = options["jobs"] >= 20 and options["webhooks"] >= 2000
    lines = [
        "# Placements benchmark (issue #15)",
        "",
        f"Measured {machine_['date']} on {machine_['cores']} cores ({machine_['cpu']}; "
        f"{machine_['memory_gib']} GiB; load average {machine_['load_average_before']} before "
        f"the run), Python {machine_['python']}, {software}; commit "
        f"{str(machine_['git']['commit'])[:10]}"
        f"{' (work tree modified)' if machine_['git']['dirty'] else ''}. Written by "
        "`bench/run.py --only placements` (alone: `python bench/placements.py`) in "
        f"{report['elapsed_s']} s; raw figures in [placements.json](placements.json).",
        "",
    ]
    if not full:
        lines += [
            f"**A small development run** ({options['jobs']} jobs per kind, "
            f"{options['webhooks']:,} webhooks): the figures show the shape, not the "
            "full-size measure (20 jobs, 2,000 webhooks), which `make bench` takes.",
            "",
        ]
    lines += [
        "![Job round trip, webhook acknowledgement and memory per placement](placements.png)",
        "",
        "| Placement | PROCESSING_PLACEMENT | WEBHOOK_RECEIVERS_PLACEMENT | Processes started |",
        "|---|---|---|---|",
    ]
    for name, result in results.items():
        settings = result["settings"]
        lines.append(
            f"| {name} | `{settings['PROCESSING_PLACEMENT']}` | "
            f"`{settings['WEBHOOK_RECEIVERS_PLACEMENT']}` | {', '.join(result['processes'])} |"
        )
    lines += [
        "",
        f"## Job round trip (ms; poll every {options['poll_ms']:g} ms, the resolution)",
        "",
        "| Job | hybrid p50 | hybrid p95 | monolith p50 | monolith p95 | monolith ÷ hybrid "
        "p50 / p95 |",
        "|---|--:|--:|--:|--:|--:|",
    ]
    for kind, description in JOB_KINDS.items():
        h, m = hybrid["jobs"][kind], monolith["jobs"][kind]
        lines.append(
            f"| {description} | {h['p50_ms']} | {h['p95_ms']} | {m['p50_ms']} | {m['p95_ms']} | "
            f"{ratio[f'{kind}_p50']} / {ratio[f'{kind}_p95']} |"
        )
    hw, mw = hybrid["webhooks"], monolith["webhooks"]
    lines += [
        "",
        f"## Webhook acknowledgement ({options['webhooks']:,} signed payment webhooks, "
        f"{options['concurrency']} threads)",
        "",
        "| Receiver | 202 p50 (ms) | 202 p99 (ms) | requests/s | non-202 |",
        "|---|--:|--:|--:|--:|",
        f"| hybrid: functions server ({options['functions_workers']} gthread workers × "
        f"{options['functions_threads']} threads) | {hw['p50_ms']} | {hw['p99_ms']} | "
        f"{hw['requests_per_second']} | {sum(hw['other_answers'].values())} |",
        f"| monolith: `/webhooks/payments` in the monolith's gunicorn ({options['web_workers']} "
        f"sync workers) | {mw['p50_ms']} | {mw['p99_ms']} | {mw['requests_per_second']} | "
        f"{sum(mw['other_answers'].values())} |",
        f"| **monolith ÷ hybrid** | {ratio['webhook_p50_ms']} | {ratio['webhook_p99_ms']} | "
        f"{ratio['webhook_requests_per_second']} | |",
        "",
        "## Memory after the measures (MiB, "
        f"{hybrid['memory']['measure'].upper()} summed over each process tree)",
        "",
        "| Component | hybrid | monolith |",
        "|---|--:|--:|",
    ]
    names = list(
        dict.fromkeys([*hybrid["memory"]["components"], *monolith["memory"]["components"]])
    )
    for name in names:
        cells = []
        for result in (hybrid, monolith):
            component = result["memory"]["components"].get(name)
            cells.append(
                f"{component['mib']} ({component['processes']} proc.)" if component else "—"
            )
        lines.append(f"| {name} | {cells[0]} | {cells[1]} |")
    lines += [
        f"| **total** | **{hybrid['memory']['total_mib']}** | "
        f"**{monolith['memory']['total_mib']}** |",
        f"| **monolith ÷ hybrid** | | **{ratio['memory_total']}** |",
        "",
        "## How it is measured",
        "",
        "Each placement runs on its own freshly migrated PostgreSQL database "
        "(`tessera_bench_placements_<run>`; the processing service's the same with "
        f"`_processing`) and RabbitMQ vhost `{VHOST}_<run>` (<run>: TESSERA_RUN_ID, else the "
        "process id; both removed at the end), purged first; hybrid first, then monolith, "
        "each stopped before the next starts. Processes are started with "
        "`scripts/components.py`'s command lines: the monolith under gunicorn "
        f"({options['web_workers']} sync workers, production settings through "
        "`bench/benchsite`), Celery workers with "
        f"{options['worker_concurrency']} pool processes, the processing API under gunicorn "
        f"({options['api_workers']} workers) and the functions' own server. The monolith and "
        "the processing service share one media folder, as under `make run`.",
        "",
        "Job round trip: a separate process with the monolith's settings makes the job's "
        "subject untimed (a one-line order, or a new product image pointing at the stored "
        f"{SOURCE_SIZE[0]}×{SOURCE_SIZE[1]} JPEG), then starts the clock, calls the shop's own "
        "`order_invoice_request` or `product_image_renditions_request` in a transaction (the "
        "outbox row, and the submission task queued after commit) and reads the row every "
        f"{options['poll_ms']:g} ms until it is `succeeded`. Jobs run one after the other, "
        f"each kind's in one process, whose first {options['job_warmups']} are untimed (they "
        "also open its database and broker connections). In hybrid the monolith worker's "
        "relay submits the row to the processing API, processing's worker runs it and posts "
        "the signed result to the monolith's `/internal/v1/job-results`, which marks the row; "
        "inline, the monolith worker runs the same kind code in the submission task and "
        "records the result itself. The invoice PDF is the smallest job the shop asks for "
        "(a sales report reads the orders first).",
        "",
        f"Webhook acknowledgement: {options['concurrency']} threads of the bench process POST "
        "one Stripe-signed `payment_intent.succeeded` event (bench/webhooks.py's) to the "
        "receiver, each request on a new connection, "
        f"{options['webhook_warmups']} untimed first; the time is until the 202 is read. "
        "The receiver verifies, validates and publishes the envelope to RabbitMQ with a "
        "confirm before answering; the monolith worker consumes meanwhile (the first delivery "
        "pays the order, the rest are duplicates). The monolith's sync workers serve one "
        "request each at a time, the functions' gthread workers eight.",
        "",
        "Memory: after both measures, with every process still running, the proportional set "
        "size (`Pss` of `/proc/<pid>/smaps_rollup`; RSS where it is unreadable) of every "
        "process in each component's tree, so shared pages are counted once overall. The "
        "bench process, PostgreSQL and RabbitMQ are not counted.",
        "",
        "Everything shares the machine's cores, the sender and the poller included: compare "
        "absolute figures within one machine, ratios across machines.",
        "",
    ]
    return "\n".join(lines)


def chart_write(report: dict[str, Any], path: Path) -> Path:
    """Three panels, hybrid and monolith side by side: round trips, acknowledgement, memory."""
    import matplotlib

    matplotlib.use("Agg")  # no display: write the file only
    import matplotlib.pyplot as plt

    results = report["placements"]
    figure, (jobs, webhooks, memory) = plt.subplots(1, 3, figsize=(14, 4.5))

    def grouped(axes: Any, labels: list[str], values: dict[str, list[float]], unit: str) -> None:
        width = 0.8 / len(values)
        for index, (placement, figures) in enumerate(values.items()):
            positions = [n + index * width for n in range(len(labels))]
            bars = axes.bar(positions, figures, width=width, label=placement)
            axes.bar_label(bars, fmt="%.0f", fontsize=7)
        axes.set_xticks(
            [n + 0.4 - width / 2 for n in range(len(labels))], labels=labels, fontsize=8
        )
        axes.set_ylabel(unit)
        axes.legend(fontsize=8)

    labels = [f"{kind} {p}" for kind in JOB_KINDS for p in ("p50", "p95")]
    grouped(
        jobs,
        labels,
        {
            name: [r["jobs"][kind][f"{p}_ms"] for kind in JOB_KINDS for p in ("p50", "p95")]
            for name, r in results.items()
        },
        "ms",
    )
    jobs.set_title("Job round trip (outbox row → succeeded)", fontsize=10)
    grouped(
        webhooks,
        ["202 p50", "202 p99"],
        {name: [r["webhooks"]["p50_ms"], r["webhooks"]["p99_ms"]] for name, r in results.items()},
        "ms",
    )
    webhooks.set_title("Webhook acknowledgement", fontsize=10)
    names = list(dict.fromkeys(n for r in results.values() for n in r["memory"]["components"]))
    bottoms = [0.0] * len(results)
    for name in names:
        values = [r["memory"]["components"].get(name, {}).get("mib", 0.0) for r in results.values()]
        memory.bar(list(results), values, bottom=bottoms, label=name, width=0.5)
        bottoms = [b + v for b, v in zip(bottoms, values, strict=True)]
    for index, total in enumerate(bottoms):
        memory.text(index, total, f"{total:.0f}", ha="center", va="bottom", fontsize=8)
    memory.set_ylabel("MiB (PSS)")
    memory.set_title("Memory of the processes each needs", fontsize=10)
    memory.legend(fontsize=7)
    figure.suptitle("Tessera placements: hybrid vs monolith", fontsize=11)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def index_update(output_dir: Path) -> Path | None:
    row = (
        "| [Placements](placements.md) ([JSON](placements.json), [chart](placements.png)) | "
        "The shop run hybrid (processing service, webhook functions) and monolith (both "
        "inline): job round trip (invoice PDF, image renditions), webhook acknowledgement "
        "p50/p99, memory of the processes each needs |"
    )
    return index_row_add(output_dir, page="placements.md", row=row)
