"""The Django-on-Lambda benchmark's report, docs/benchmarks/django-lambda.md, and its row in the
reports' index."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.index import index_row_add


def markdown_render(report: dict[str, Any]) -> str:
    described = report["machine"]
    cold = report["cold_start_ms"]
    ratios = report["cold_start_ratio_to_trivial_wsgi"]
    lines = [
        "# Django on Lambda: the processing API through Zappa's handler",
        "",
        "Written by `bench/run.py --only django-lambda` (`make bench`); figures from "
        f"{described['date']}, {described['cores']} cores ({described['cpu']}), load average "
        f"before the run {described['load_average_before']}, commit "
        f"{str(described['git']['commit'])[:12]}. "
        "**The machine was shared with other work when measured**: compare the rows of one "
        "run with each other (they alternate), not single figures across runs.",
        "",
        "What it measures and how: the module docstring of `bench/django_lambda.py`.",
        "",
        "## Zip sizes (`zappa package`, offline)",
        "",
        "| Zip | Bytes | MiB |",
        "|---|---:|---:|",
        *(
            f"| {name} | {size:,} | {size / 1024 / 1024:.2f} |"
            for name, size in report["zip_bytes"].items()
        ),
        "",
        f"## Cold start through Zappa's handler (`GET /healthz`, {report['cold_starts']} fresh "
        "interpreters each)",
        "",
        "| App | p50 (ms) | p95 (ms) | p50 / trivial WSGI app |",
        "|---|---:|---:|---:|",
        *(
            f"| {name} | {values['p50_ms']} | {values['p95_ms']} | {ratios[name]} |"
            for name, values in cold.items()
        ),
        "",
        "From interpreter start to the first answer: importing Zappa's handler, building the "
        "application (Django's setup, for the Django apps) and serving the request.",
        "",
        "## Trimming, from the figures above",
        "",
        *trimming_lines(report),
        "",
        f"## Warm requests per second through the handler ({report['warm_requests']} in one "
        "interpreter)",
        "",
        "| App and request | Requests/s |",
        "|---|---:|",
        *(f"| {name} | {value} |" for name, value in report["warm_requests_per_second"].items()),
        "",
        "## Where the processing API's cold start goes (`-X importtime`, top-level imports)",
        "",
        "| Package | Cumulative import (ms) |",
        "|---|---:|",
        *(
            f"| {row['package']} | {row['cumulative_ms']} |"
            for row in report["processing_import_ms_by_package"]
        ),
        "",
        "Software: "
        + ", ".join(f"{name} {version}" for name, version in report["software"].items())
        + ".",
        "",
    ]
    return "\n".join(lines)


def trimming_lines(report: dict[str, Any]) -> list[str]:
    """What each trimming attempt changed against the processing API as shipped."""
    sizes = report["zip_bytes"]
    cold = report["cold_start_ms"]
    warm = report["warm_requests_per_second"]
    shipped, untrimmed = "processing API", "processing API, untrimmed"
    fewer = "processing API, fewer installed apps"
    return [
        f"- Excluding the workers' libraries and the static folders (the shipped stage): zip "
        f"{sizes[untrimmed] / 1024 / 1024:.1f} → {sizes[shipped] / 1024 / 1024:.1f} MiB "
        f"({sizes[shipped] / sizes[untrimmed]:.2f}×); cold start p50 {cold[untrimmed]['p50_ms']}"
        f" → {cold[shipped]['p50_ms']} ms (unpacking a smaller zip is Lambda's, not measured "
        "here; the API never imports what was left out).",
        f"- Fewer installed apps (no admin, sessions, messages; bench-only settings): cold start "
        f"p50 {cold[shipped]['p50_ms']} → {cold[fewer]['p50_ms']} ms; warm `GET /healthz` "
        f"{warm[shipped + ': GET /healthz']} → {warm[fewer + ': GET /healthz']} requests/s "
        "(fewer middleware per request).",
    ]


def index_update(output_dir: Path) -> Path | None:
    row = (
        "| [Django on Lambda](django-lambda.md) ([JSON](django-lambda.json)) | The processing "
        "API through Zappa's handler: zip sizes, cold start p50/p95 against the webhook "
        "functions, a trivial WSGI app and a minimal Django project; warm requests/s; "
        "trimming measured |"
    )
    return index_row_add(output_dir, page="django-lambda.md", row=row)
