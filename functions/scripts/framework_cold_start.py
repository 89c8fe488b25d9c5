"""Measure what a WSGI framework costs the webhook functions: cold start and installed size.

Each candidate serves the same trivial route (POST answering 202 with a small JSON body).
A cold start is a fresh interpreter (``python -I``, as a new Lambda container) importing the
app and serving one request through the WSGI interface; the median of ``--runs`` is
reported, with the bare interpreter's start-up subtracted. Size is the installed size of the
framework's distributions (what it adds to the Lambda zip before compression).

Usage: ``python functions/scripts/framework_cold_start.py [--runs 30]``; needs werkzeug
and falcon importable (falcon only for this measurement).
"""

import argparse
import statistics
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

SERVE_ONE = """
import io
environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/webhooks/payments", "CONTENT_LENGTH": "2",
           "wsgi.input": io.BytesIO(b"{}"), "SERVER_NAME": "x", "SERVER_PORT": "80",
           "wsgi.url_scheme": "http", "SERVER_PROTOCOL": "HTTP/1.1", "QUERY_STRING": "",
           "wsgi.errors": io.StringIO()}
body = b"".join(app(environ, lambda status, headers, exc_info=None: None))
assert body == b'{"status":"queued"}', body
"""

CANDIDATES = {
    "plain WSGI": """
def app(environ, start_response):
    environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    body = b'{"status":"queued"}'
    start_response("202 Accepted", [("Content-Type", "application/json"),
                                    ("Content-Length", str(len(body)))])
    return [body]
""",
    "werkzeug": """
from werkzeug.wrappers import Request, Response
@Request.application
def app(request):
    request.get_data()
    return Response(b'{"status":"queued"}', status=202, content_type="application/json")
""",
    "falcon": """
import falcon
class Payments:
    def on_post(self, req, resp):
        req.bounded_stream.read()
        resp.status = falcon.HTTP_202
        resp.data = b'{"status":"queued"}'
        resp.content_type = falcon.MEDIA_JSON
app = falcon.App()
app.add_route("/webhooks/payments", Payments())
""",
}
DISTRIBUTIONS = {"plain WSGI": [], "werkzeug": ["werkzeug", "markupsafe"], "falcon": ["falcon"]}


def cold_start_ms(code: str, runs: int) -> float:
    """Median wall time of a fresh interpreter running ``code``, in milliseconds."""
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-I", "-c", code], check=True)  # noqa: S603
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def installed_bytes(names: list[str]) -> int:
    """Bytes on disk of the distributions' files."""
    total = 0
    for name in names:
        for file in metadata.distribution(name).files or []:
            path = Path(str(file.locate()))
            if path.is_file():
                total += path.stat().st_size
    return total


def main() -> None:
    """Print one Markdown table row per candidate."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    runs = parser.parse_args().runs
    baseline = cold_start_ms("pass", runs)
    print(f"bare interpreter start: {baseline:.1f} ms (subtracted below), {runs} runs each")
    print("| framework | version | cold start over bare interpreter (ms) | installed size (KiB) |")
    print("|---|---|---|---|")
    for name, app_code in CANDIDATES.items():
        elapsed = cold_start_ms(app_code + SERVE_ONE, runs) - baseline
        version = metadata.version(name) if DISTRIBUTIONS[name] else "-"
        size = installed_bytes(DISTRIBUTIONS[name]) / 1024
        print(f"| {name} | {version} | {elapsed:.1f} | {size:.0f} |")


if __name__ == "__main__":
    main()
