"""The headless benchmark's reports: docs/benchmarks/headless.json and .md, and the chart."""

from __future__ import annotations

import json
from pathlib import Path

from bench import pages, postgres
from bench.headless_browser import (
    CARD_NAME_SELECTOR,
    CARD_SELECTOR,
    METRICS,
    VIEWPORT,
    VISITS,
    WARMUP_ROUNDS,
)
from bench.headless_results import Results
from bench.headless_storefronts import (
    API_THROTTLE,
    BENCHMARK,
    GZIP_LEVEL,
    HEADLESS,
    LABELS,
    MONOLITH_WORKERS,
    SERVER_RENDERED,
)

CHART_NAME = "headless.png"
# Not the storefronts' colours, which the chart's other panel uses.
KIND_COLOURS = {"html": "tab:gray", "css": "tab:purple", "js": "tab:green"}
BYTE_MEASURES = ("raw_bytes", "gzip_bytes", "served_bytes")


def report_build(results: Results) -> dict[str, object]:
    """The JSON report: machine, software, parameters, every file and every timed visit."""
    facts = results.facts
    options = results.options
    return {
        "benchmark": BENCHMARK,
        "machine": facts.machine,
        "software": facts.software,
        "parameters": {
            "products": options.products,
            "repeats": options.repeats,
            "warmup_rounds": WARMUP_ROUNDS,
            "gzip_level": GZIP_LEVEL,
            "card_selector": CARD_SELECTOR,
            "viewport": dict(VIEWPORT),
            "monolith_server": {
                "settings": f"{pages.SETTINGS_MODULE}: monolith.settings.production + loopback",
                "wsgi": pages.WSGI_APP,
                "gunicorn_workers": MONOLITH_WORKERS,
                "worker_class": "sync",
                "cors_allowed_origins": [results.origins[HEADLESS]],
                "api_throttle_anon": API_THROTTLE,
                **facts.served,
            },
            "storefront_server": {
                "server": "scripts/headless_storefront.py serve_argv: gunicorn, WhiteNoise",
                "origin": results.origins[HEADLESS],
                "api_origin": results.origins[SERVER_RENDERED],
            },
        },
        "seed_s": round(facts.seed_s, 1),
        "bundle": {
            key: {
                "files": [
                    {
                        "path": file.path,
                        "kind": file.kind,
                        "raw_bytes": file.raw_bytes,
                        "gzip_bytes": file.gzip_bytes,
                        "served_bytes": file.served_bytes,
                        "served_encoding": file.served_encoding,
                    }
                    for file in files
                ],
                "totals": {measure: results.total(key, measure) for measure in BYTE_MEASURES},
            }
            for key, files in results.transfers.items()
        },
        "headless_build_files_not_loaded_first": (results.headless_not_loaded_first),
        "bundle_ratio_headless_to_server_rendered": {
            measure: round(
                results.total(HEADLESS, measure) / results.total(SERVER_RENDERED, measure), 3
            )
            for measure in BYTE_MEASURES
        },
        "timings_ms": {
            key: {
                visit: {
                    "cards": results.cards(key),
                    **{
                        metric: {
                            "values": [round(v, 1) for v in results.values(key, visit, metric)],
                            "p50": round(results.quantile(key, visit, metric, 0.5), 1),
                            "p95": round(results.quantile(key, visit, metric, 0.95), 1),
                        }
                        for metric in METRICS
                    },
                }
                for visit in VISITS
            }
            for key in LABELS
        },
        "products_api_arrived_p50_ms": {
            visit: results.products_api_p50_ms(visit) for visit in VISITS
        },
        "ratio_headless_to_server_rendered": {
            visit: {
                metric: {
                    "p50": round(results.ratio(visit, metric, 0.5), 3),
                    "p95": round(results.ratio(visit, metric, 0.95), 3),
                }
                for metric in METRICS
            }
            for visit in VISITS
        },
        "elapsed_s": round(facts.elapsed_s, 1),
    }


def kib(size: int) -> str:
    """Bytes as KiB with one decimal, for the tables."""
    return f"{size / 1024:,.1f}"


def bundle_lines(results: Results) -> list[str]:
    """Every file of each first page, and the totals, as Markdown tables."""
    lines = [
        f"| Storefront | File | Kind | Raw (KiB) | gzip -{GZIP_LEVEL} (KiB) | Served (KiB) |",
        "|---|---|---|--:|--:|--:|",
    ]
    for key, files in results.transfers.items():
        for file in files:
            lines.append(
                f"| {LABELS[key]} | `{file.path}` | {file.kind} | {kib(file.raw_bytes)} "
                f"| {kib(file.gzip_bytes)} | {kib(file.served_bytes)} ({file.served_encoding}) |"
            )
    lines += [
        "",
        f"| Storefront | Files | Raw (KiB) | gzip -{GZIP_LEVEL} (KiB) | Served (KiB) |",
        "|---|--:|--:|--:|--:|",
    ]
    for key, files in results.transfers.items():
        lines.append(
            f"| {LABELS[key]} | {len(files)} "
            + " ".join(f"| {kib(results.total(key, measure))}" for measure in BYTE_MEASURES)
            + " |"
        )
    lines.append(
        "| Headless ÷ server-rendered | "
        + " ".join(
            f"| {results.total(HEADLESS, m) / results.total(SERVER_RENDERED, m):.2f}×"
            for m in BYTE_MEASURES
        )
        + " |"
    )
    return lines


def timing_lines(results: Results) -> list[str]:
    """p50 and p95 of every measure, cold and warm, per storefront, and their ratio."""
    lines = [
        "| Measure (ms from navigation start) | Visit | Server-rendered p50 | p95 "
        "| Headless p50 | p95 | Headless ÷ server-rendered p50 | p95 |",
        "|---|---|--:|--:|--:|--:|--:|--:|",
    ]
    for metric, label in METRICS.items():
        for visit in VISITS:
            cells = [
                f"{results.quantile(key, visit, metric, share):.0f}"
                for key in (SERVER_RENDERED, HEADLESS)
                for share in (0.5, 0.95)
            ]
            lines.append(
                f"| {label} | {visit} | {' | '.join(cells)} "
                f"| {results.ratio(visit, metric, 0.5):.2f}× "
                f"| {results.ratio(visit, metric, 0.95):.2f}× |"
            )
    return lines


def markdown_render(results: Results) -> str:
    """The readable report: when and where, the bytes, the times, what they mean, the method."""
    facts, options, software = results.facts, results.options, results.facts.software
    described = facts.machine
    git = described.get("git")
    commit = git.get("commit", "unknown") if isinstance(git, dict) else "unknown"
    dirty = " (with uncommitted changes)" if isinstance(git, dict) and git.get("dirty") else ""
    not_loaded = results.headless_not_loaded_first
    api_cold, api_warm = (results.products_api_p50_ms(visit) for visit in VISITS)
    lines = [
        "# Headless storefront benchmark",
        "",
        f"Measured {described['date']} on {described['cores']} cores ({described['cpu']}; load "
        f"average {described['load_average_before']} before the run), commit `{commit[:12]}`"
        f"{dirty}, Python {described['python']}, Django {software['django']}, gunicorn "
        f"{software['gunicorn']}, PostgreSQL {software['postgresql']}, Chromium "
        f"{software['chromium']} (headless, through Playwright {software['playwright']}), "
        f"Node.js {software['node']} for the build. One catalog of {options.products:,} "
        f"products (seeded in {facts.seed_s:.0f} s) served by both storefronts; "
        f"{options.repeats} timed rounds after {WARMUP_ROUNDS} untimed; the run took "
        f"{facts.elapsed_s / 60:.1f} minutes. Written by `bench/run.py --only headless`; the raw "
        f"figures and all parameters are in [headless.json](headless.json).",
        "",
        f"![Time to the first product card, p50 with p95, and the first page's gzip bytes]"
        f"({CHART_NAME})",
        "",
        "## What the first catalog page transfers",
        "",
        f"The catalog's first page `/` of each storefront and every script and stylesheet its "
        f"HTML loads. *gzip* is Python's `gzip` at level {GZIP_LEVEL} on the raw bytes, the same "
        f"for every file; *Served* is what the storefront's own server sent to a client "
        f"accepting `gzip, br`, with the encoding it chose. Images are not counted: both "
        f"storefronts load them lazily, and neither measure waits for them (the monolith's "
        f"production settings leave uploaded media to the reverse proxy, so under gunicorn "
        f"alone the product photos answer 404, in both storefronts alike).",
        "",
        *bundle_lines(results),
        "",
    ]
    if not_loaded:
        lines += [
            "Also in the headless build, not loaded by its first page: "
            + ", ".join(f"`{path}`" for path in not_loaded)
            + ".",
            "",
        ]
    lines += [
        "## Time to the first product list in Chromium",
        "",
        f"Milliseconds from navigation start, by the page's own clock; {options.repeats} "
        f"visits per row. *cold*: a new browser context, so an empty HTTP cache and no open "
        f"connection; *warm*: a second visit in a new tab of the same context.",
        "",
        *timing_lines(results),
        "",
        "## What the figures mean",
        "",
        f"- The server-rendered catalog sends its {results.cards(SERVER_RENDERED)} cards in "
        f"the HTML: they are on screen once the document and its render-blocking stylesheet "
        f"have arrived. The headless storefront first loads `index.html`, then its script "
        f"bundle, runs React, and only then asks the monolith's API for the categories and "
        f"the {results.cards(HEADLESS)} products of its first page, across origins; its "
        f"first card waits for that answer"
        + (
            f" (the product list had arrived at {api_cold:.0f} ms cold and {api_warm:.0f} ms "
            f"warm, p50)."
            if api_cold is not None and api_warm is not None
            else "."
        ),
        "- *First contentful paint* tells the two ways apart: the server-rendered page "
        "usually paints its header and its cards in the same frame, while the headless "
        "storefront can paint its shell (header, heading, filters) well before its cards.",
        "- The two first pages are not the same size: the server-rendered page shows "
        f"{results.cards(SERVER_RENDERED)} products, the headless page "
        f"{results.cards(HEADLESS)}. The time to the *first* card should hardly depend on "
        "that; the HTML's bytes do.",
        "- Everything ran on loopback, with no network latency and unlimited bandwidth, so "
        "bytes cost almost nothing here and a round trip well under a millisecond. On a real "
        "connection every extra round trip (HTML, then script, then API) and every kilobyte "
        "adds to these times, more for the headless storefront: read its ratio as a floor.",
        "- *warm* is what a returning visitor gets: the hashed scripts and stylesheets come "
        "from the HTTP cache, while the server-rendered HTML and the headless app's API "
        "answers are asked for again. The headless storefront's `load` can come before its "
        "first card: its product list is fetched after the page has loaded.",
        "- *Served* shows what these servers send by themselves: WhiteNoise sends the "
        "compressed variants it finds next to a file (collectstatic writes them for the "
        "monolith's static files), and the monolith sends HTML uncompressed, leaving "
        "compression to the reverse proxy in front of it. The *gzip* column is the fair "
        "comparison of sizes." + uncompressed_bundle_note(results),
        "- Chromium, both servers and PostgreSQL share the machine's "
        f"{described['cores']} cores, so compare absolute figures only within one run and "
        "the ratios across machines.",
        "",
        "## Method",
        "",
        f"`bench/run.py --only headless` drops and recreates the PostgreSQL database "
        f"`{postgres.database_name(options.database_url)}`, migrates it, seeds "
        f"{options.products:,} demo products with `seed_demo`, runs `VACUUM ANALYZE` and "
        f"collects the static files, exactly as the pages benchmark does. It serves the "
        f"monolith with gunicorn ({MONOLITH_WORKERS} sync workers) under the production "
        f"settings (`bench/benchsite`), with the headless app's origin as the only entry of "
        f"`TESSERA_CORS_ALLOWED_ORIGINS` and the API's anonymous throttle raised to "
        f"{API_THROTTLE} so that the run's own visits are never throttled. It builds the "
        f"headless app into a folder of the run's (`scripts/headless_storefront.py`: `npm run "
        f"build` with `VITE_API_ORIGIN` set to that monolith, then a .gz beside each text "
        f"file, as `make run` builds it) and serves the build with that script's "
        f"production server (gunicorn, one worker, WhiteNoise) on another loopback port. "
        f"The byte figures come from one request per file to each server. In Debian's "
        f"Chromium (headless, {VIEWPORT['width']}×{VIEWPORT['height']}), a script that runs "
        f"before any of the page's own notes, with a MutationObserver, the moment the first "
        f"`{CARD_SELECTOR}` enters the DOM (the same class in both storefronts; "
        f"`performance.now()`), and marks the heading with the product's name in it "
        f"(`{CARD_NAME_SELECTOR}`) "
        f"with an `elementtiming` attribute, so that the Element Timing API reports when that "
        f"text was painted: that is *First product card painted*, whether the card came in "
        f"the HTML or was inserted by React. All times are milliseconds since the navigation "
        f"started, by the page's own clock; *First contentful paint* is the Paint Timing "
        f"entry's, when anything at all (the header, a heading) was first painted; "
        f"*DOMContentLoaded* and *load* are the Navigation Timing entry's "
        f"`domContentLoadedEventStart` and `loadEventStart`. Each "
        f"round visits both storefronts, cold then warm, in an order that alternates from "
        f"round to round, so drift on the machine touches both alike; one untimed round "
        f"before them warms the servers' caches and Chromium. p50 and p95 are nearest-rank "
        f"percentiles.",
        "",
    ]
    return "\n".join(lines)


def uncompressed_bundle_note(results: Results) -> str:
    """A sentence when the headless app's server sent a script or stylesheet uncompressed."""
    plain = [
        file
        for file in results.transfers[HEADLESS]
        if file.kind != "html" and file.served_encoding == "identity"
    ]
    if not plain:
        return ""
    return (
        f" The Vite build has no compressed variants, so the headless app's server sent "
        f"{kib(sum(f.served_bytes for f in plain))} KiB of script and stylesheet "
        f"uncompressed; gzip makes them {kib(sum(f.gzip_bytes for f in plain))} KiB."
    )


def chart_write(results: Results, path: Path) -> Path:
    """Time to the first card (p50 bars, p95 marks), and each first page's gzip bytes by kind."""
    import matplotlib

    matplotlib.use("Agg")  # no display: write the file only
    import matplotlib.pyplot as plt

    keys = list(LABELS)
    figure, (times, sizes) = plt.subplots(1, 2, figsize=(11, 4))
    width = 0.38
    highest = 0.0
    for index, key in enumerate(keys):
        positions = [n + (index - 0.5) * width for n in range(len(VISITS))]
        p50 = [results.quantile(key, visit, "first_card_ms", 0.5) for visit in VISITS]
        p95 = [results.quantile(key, visit, "first_card_ms", 0.95) for visit in VISITS]
        times.bar(positions, p50, width=width, label=LABELS[key])
        times.scatter(positions, p95, marker="_", s=300, color="black")
        highest = max(highest, *p95)
    times.set_xticks(range(len(VISITS)), labels=list(VISITS))
    times.set_ylabel("ms from navigation start")
    times.set_title("First product card painted (bar p50, mark p95)")
    # Headroom above the highest p95 mark, for the legend.
    times.set_ylim(0, highest * 1.3)
    times.legend(fontsize=8, loc="upper center", ncol=2)
    left = [0.0] * len(keys)
    for kind, colour in KIND_COLOURS.items():
        kib_by_key = [
            sum(f.gzip_bytes for f in results.transfers[key] if f.kind == kind) / 1024
            for key in keys
        ]
        sizes.barh([LABELS[key] for key in keys], kib_by_key, left=left, label=kind, color=colour)
        left = [a + b for a, b in zip(left, kib_by_key, strict=True)]
    sizes.set_xlabel(f"KiB, gzip level {GZIP_LEVEL}")
    sizes.set_title("First page: HTML, CSS and JS")
    sizes.legend(fontsize=8)
    figure.suptitle(
        f"Headless storefront vs server-rendered catalog, {results.options.products:,} products"
    )
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def reports_write(report: dict[str, object], markdown: str, output_dir: Path) -> list[Path]:
    """Write headless.json and headless.md."""
    output_dir.mkdir(parents=True, exist_ok=True)
    json_path = output_dir / f"{BENCHMARK}.json"
    json_path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    markdown_path = output_dir / f"{BENCHMARK}.md"
    markdown_path.write_text(markdown, encoding="utf-8")
    return [json_path, markdown_path]
