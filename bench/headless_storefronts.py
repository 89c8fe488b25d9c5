"""The two storefronts of the headless benchmark (bench/headless.py): each served by its own
production server and waited for, and what its first page transfers (the HTML and every
script and stylesheet it loads, raw, gzipped here, and as served)."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

from bench import pages, server
from bench.progress import BenchmarkFailure, phase, progress
from scripts import headless_storefront

# bench/headless.py's NAME: the benchmark its progress lines and report files name.
BENCHMARK = "headless"
MONOLITH_WORKERS = 2
GZIP_LEVEL = 9
# High enough that the run's own repeats never meet the API's per-client throttle (which
# still runs on every call, as in production).
API_THROTTLE = "100000/min"
STOREFRONT_READY_PATH = "/readyz"

SERVER_RENDERED = "server_rendered"
HEADLESS = "headless"
LABELS = {SERVER_RENDERED: "Server-rendered catalog", HEADLESS: "Headless storefront"}


def origin(port: int) -> str:
    """The URL of a server on loopback, as the browser and CORS see it."""
    return f"http://{server.HOST}:{port}"


@dataclass(frozen=True)
class Storefront:
    """One storefront being served: which it is, where, and its server's log."""

    key: str
    port: int
    log_path: Path

    @property
    def origin(self) -> str:
        return origin(self.port)

    @property
    def label(self) -> str:
        return LABELS[self.key]


@dataclass(frozen=True)
class StorefrontServer:
    """The headless app's production server, with the command line `make run` uses."""

    root: Path
    environment: dict[str, str]
    log_path: Path

    def command(self, port: int) -> list[str]:
        return headless_storefront.serve_argv(port, root=self.root)


@contextmanager
def storefront_serving(
    key: str, served: server.Served, *, ready_path: str, port: int | None = None
) -> Iterator[Storefront]:
    """Start a storefront's server, wait until it is ready, yield it, then stop it."""
    with ExitStack() as stack:
        with phase(BENCHMARK, f"starting the {LABELS[key].lower()}'s server"):
            port = stack.enter_context(
                server.gunicorn_serving(
                    served,
                    ready_path=ready_path,
                    ready_timeout_s=pages.READY_TIMEOUT_S,
                    port=port,
                )
            )
        yield Storefront(key=key, port=port, log_path=served.log_path)


@dataclass(frozen=True)
class TransferredFile:
    """One file of a storefront's first page: its size raw, gzipped here, and as served."""

    path: str
    kind: str
    raw_bytes: int
    gzip_bytes: int
    # What the storefront's own server sends to a browser accepting gzip and brotli.
    served_bytes: int
    served_encoding: str


class PageAssets(HTMLParser):
    """The scripts and stylesheets an HTML page loads, in document order, with their kind."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        relations = set((values.get("rel") or "").lower().split())
        if tag == "script" and (source := values.get("src")):
            self.found.append(("js", source))
        elif tag == "link" and (target := values.get("href")):
            if "stylesheet" in relations:
                self.found.append(("css", target))
            elif "modulepreload" in relations:
                self.found.append(("js", target))


def own_path(storefront: Storefront, url: str) -> str:
    """The path of an asset the page loads, which must come from the storefront's own origin."""
    parts = urlsplit(url)
    if parts.netloc and parts.netloc != f"{server.HOST}:{storefront.port}":
        raise BenchmarkFailure(
            f"the {storefront.label.lower()} loads {url} from another origin; "
            "only what a storefront serves itself is measured"
        )
    return parts.path + (f"?{parts.query}" if parts.query else "")


def fetched(storefront: Storefront, path: str, headers: dict[str, str]) -> server.Response:
    """GET `path` from the storefront; anything but 200 fails the run."""
    response = server.http_get(storefront.port, path, headers=headers)
    if response.status != 200:
        raise BenchmarkFailure(
            f"{storefront.origin}{path} answered {response.status}, not 200.\n"
            f"Server log:\n{server.log_tail(storefront.log_path)}"
        )
    return response


def file_measure(storefront: Storefront, path: str, kind: str) -> TransferredFile:
    """One file's bytes as stored (no Accept-Encoding), gzipped here, and as served."""
    raw = fetched(storefront, path, headers={}).body
    served = fetched(storefront, path, headers={"Accept-Encoding": "gzip, br"})
    return TransferredFile(
        path=path,
        kind=kind,
        raw_bytes=len(raw),
        gzip_bytes=len(gzip.compress(raw, compresslevel=GZIP_LEVEL, mtime=0)),
        served_bytes=len(served.body),
        served_encoding=served.headers.get("content-encoding", "identity"),
    )


def transfer_measure(storefront: Storefront) -> list[TransferredFile]:
    """The catalog's first page `/` and every script and stylesheet its HTML loads."""
    html = fetched(storefront, "/", headers={}).body.decode("utf-8")
    assets = PageAssets()
    assets.feed(html)
    files = [file_measure(storefront, "/", "html")]
    for kind, url in assets.found:
        files.append(file_measure(storefront, own_path(storefront, url), kind))
    progress(
        BENCHMARK,
        f"{storefront.label}: {len(files)} files, "
        f"{sum(f.raw_bytes for f in files):,} B raw, {sum(f.gzip_bytes for f in files):,} B gzip",
    )
    return files


def bundle_files_not_loaded(files: list[TransferredFile], build_dir: Path) -> list[str]:
    """Scripts and stylesheets of the build that the first page does not load (lazy chunks)."""
    loaded = {file.path for file in files}
    return sorted(
        path
        for built in build_dir.rglob("*")
        if built.suffix in (".js", ".css")
        and (path := "/" + built.relative_to(build_dir).as_posix()) not in loaded
    )
