"""Where a shopper page's time goes: pyinstrument around the monolith's WSGI handler, in process.

    .venv/bin/python -m bench.pages_profile                  # 10,000 products, 2,000 requests
    .venv/bin/python -m bench.pages_profile --products 100000 --requests 500

It prepares a database as the pages benchmark does (bench/pages.py: recreated, migrated,
seeded, vacuumed, static files collected, the shopper with three items in the cart signed
in), then, in one process under the same bench settings and cache, calls Django's WSGI
handler directly for each page: warm-up requests, `--requests` timed ones, then more under
pyinstrument for PROFILE_SECONDS. No gunicorn, no socket, no wrk: the figures say what Django
spends on a page in one thread, comparable one page with another and with the bare view, not
with the benchmark's requests/s. Each page's sampled time is split into the parts a report names
(the session, the user, the mini cart's count, templates, ...): a frame's own time goes to
the first entry of PARTS found anywhere on its stack, so a cache read made to load the
session counts as the session, not as a cache read. It prints a Markdown table per page and
writes each page's full pyinstrument profile as text next to it (`--output-dir`).
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import pages, postgres

# (part, pieces of "file path:function" that put a frame in it); the first found on a stack wins.
PARTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("session (load and save)", ("django/contrib/sessions/",)),
    ("user (load, session hash)", ("django/contrib/auth/", "monolith/accounts/")),
    ("mini cart's count", ("monolith/cart/context_processors.py", "cart_item_count")),
    ("messages", ("django/contrib/messages/",)),
    ("CSRF token", ("django/middleware/csrf.py", "monolith/core/csrf_token_slot.py")),
    ("shopper's parts (header, messages, nonce)", ("monolith/core/shopper_parts.py",)),
    (
        "catalog cache reads (version, page)",
        ("monolith/catalog/page_cache.py", "monolith/catalog/catalog_version.py"),
    ),
    ("cache reads (other)", ("django/core/cache/",)),
    ("the page's own view (cart, checkout: their queries)", ("monolith/cart/", "monolith/orders/")),
    ("template rendering", ("django/template/",)),
    ("SQL (other)", ("django/db/",)),
    ("CSP header", ("csp/",)),
    ("response building", ("django/http/",)),
)
OTHER = "the rest (handler, URL resolving, other middleware)"
SAMPLE_INTERVAL_S = 0.0005
# Profiled for this long per page, whatever a request costs: enough samples for a cheap page,
# bounded memory for a dear one (pyinstrument keeps every sample's stack).
PROFILE_SECONDS = 3.0


@dataclass(frozen=True)
class Page:
    name: str
    path: str
    signed_in: bool = False


def pages_for(product_slug: str) -> list[Page]:
    product = f"/products/{product_slug}/"
    return [
        Page("bare view", "/bench/ok"),
        Page("catalog, first page, guest", "/"),
        Page("product page, guest", product),
        Page("catalog, first page, signed in (3 items in the cart)", "/", signed_in=True),
        Page("product page, signed in (3 items in the cart)", product, signed_in=True),
        Page("cart page, signed in", "/cart/", signed_in=True),
        Page("checkout page, signed in", "/checkout/", signed_in=True),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=2_000, help="timed per page")
    parser.add_argument("--warmup", type=int, default=50, help="unmeasured requests per page")
    parser.add_argument(
        "--database-url",
        default=postgres.local_database_url("tessera_profile"),
        help="PostgreSQL database to DROP and recreate (default: %(default)s)",
    )
    parser.add_argument("--output-dir", default="var/pages-profile", help="full profiles (text)")
    parser.add_argument("--inside", help=argparse.SUPPRESS)  # the profiling process's job
    arguments = parser.parse_args(argv)
    if arguments.inside:
        return profile_inside(json.loads(arguments.inside))
    with tempfile.TemporaryDirectory(prefix="tessera-pages-profile-") as scratch:
        environment = pages.django_environment(arguments.database_url, Path(scratch))
        pages.site_prepare(arguments.database_url, environment, products=arguments.products)
        (slug,) = postgres.product_slugs_pick(
            arguments.database_url, first=arguments.products // 2, count=1
        )
        job = {
            "session": pages.shopper_sign_in(environment),
            "csrf": "b" * 32,
            "slug": slug,
            "requests": arguments.requests,
            "warmup": arguments.warmup,
            "output_dir": str(Path(arguments.output_dir).resolve()),
        }
        # A process of its own: Django set up under the bench settings, as gunicorn's workers.
        completed = subprocess.run(
            [sys.executable, "-m", "bench.pages_profile", "--inside", json.dumps(job)],
            env=environment,
            cwd=pages.REPO_ROOT,
            check=False,
        )
    return completed.returncode


def profile_inside(job: dict[str, object]) -> int:
    import django

    django.setup()
    from django.core.wsgi import get_wsgi_application
    from pyinstrument import Profiler

    application = get_wsgi_application()
    cookie = f"sessionid={job['session']}; csrftoken={job['csrf']}"
    requests, warmup = int(str(job["requests"])), int(str(job["warmup"]))
    output_dir = Path(str(job["output_dir"]))
    output_dir.mkdir(parents=True, exist_ok=True)
    print(f"{requests:,} requests per page after {warmup} warm-up ones, one thread, in process\n")
    for page in pages_for(str(job["slug"])):
        call = wsgi_caller(application, page.path, cookie if page.signed_in else "")
        status, body = call()
        if status != "200 OK" or (page.signed_in and b"Log out" not in body):
            print(f"{page.name}: {page.path} answered {status}; not profiled", file=sys.stderr)
            return 1
        for _ in range(warmup):
            call()
        timings = []
        cpu_started = time.process_time()
        for _ in range(requests):
            started = time.perf_counter()
            call()
            timings.append(time.perf_counter() - started)
        cpu_ms = (time.process_time() - cpu_started) / requests * 1000
        profiler = Profiler(interval=SAMPLE_INTERVAL_S)
        profiler.start()
        deadline = time.monotonic() + PROFILE_SECONDS
        while time.monotonic() < deadline:
            call()
        session = profiler.stop()
        shares = parts_split(session.root_frame())
        print(f"### {page.name} `{page.path}`\n")
        print(
            f"{statistics.median(timings) * 1000:.3f} ms per request (median of {requests:,}; "
            f"this process's CPU {cpu_ms:.3f} ms a request), {len(body):,} bytes\n"
        )
        print("| Part | share |\n|---|--:|")
        total = sum(shares.values()) or 1.0
        for part, seconds in sorted(shares.items(), key=lambda item: -item[1]):
            print(f"| {part} | {seconds / total:.0%} |")
        print()
        slug = page.name.split(" (")[0].replace(",", "").replace(" ", "-")
        (output_dir / f"{slug}.txt").write_text(
            profiler.output_text(unicode=True, show_all=False), encoding="utf-8"
        )
    print(f"full profiles: {output_dir}")
    return 0


def wsgi_caller(
    application: Callable[..., Iterable[bytes]], path: str, cookie: str
) -> Callable[[], tuple[str, bytes]]:
    """A GET of `path` through the WSGI handler, as gunicorn would make it; status and body."""
    path_info, _, query = path.partition("?")
    base = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path_info,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "HTTP_HOST": "127.0.0.1",
        "REMOTE_ADDR": "127.0.0.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }
    if cookie:
        base["HTTP_COOKIE"] = cookie

    def call() -> tuple[str, bytes]:
        seen: list[str] = []

        def start_response(status: str, headers: object, exc_info: object = None) -> None:
            seen.append(status)

        result = application({**base, "wsgi.input": io.BytesIO()}, start_response)
        try:
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        return seen[0], body

    return call


def parts_split(root: object) -> dict[str, float]:
    """Sampled seconds per part: each frame's own time to the first entry of PARTS on its stack."""
    names = [name for name, _ in PARTS] + [OTHER]
    shares: dict[str, float] = {}

    def walk(frame: object, stack_best: int) -> None:
        where = f"{getattr(frame, 'file_path', '') or ''}:{getattr(frame, 'function', '')}"
        own = next(
            (index for index, (_, pieces) in enumerate(PARTS) if any(p in where for p in pieces)),
            len(PARTS),
        )
        seconds = float(getattr(frame, "total_self_time", 0.0))
        shares[names[min(stack_best, own)]] = shares.get(names[min(stack_best, own)], 0.0) + seconds
        # A middleware's __call__ wraps everything after it, the view included: what it calls
        # belongs to its own part only when that part's code calls it.
        best = stack_best if getattr(frame, "function", "") == "__call__" else min(stack_best, own)
        for child in getattr(frame, "children", ()):
            if not getattr(child, "is_synthetic", False):
                walk(child, best)

    if root is not None:
        walk(root, len(PARTS))
    return shares


if __name__ == "__main__":
    sys.exit(main())
