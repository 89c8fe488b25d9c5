"""`python -m tessera_sandbox serve` (port 8003) and `python -m tessera_sandbox burst ...`."""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from .app import SandboxApp
from .burst import burst_run
from .delivery import WebhookSender
from .events import Checkout, provider_id
from .settings import SandboxConfigurationError, SandboxSettings


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        logging.getLogger("tessera_sandbox.access").info(format, *args)


def serve(arguments: argparse.Namespace, settings: SandboxSettings) -> None:
    app = SandboxApp(WebhookSender(settings))
    with make_server(
        arguments.host,
        arguments.port,
        app,
        server_class=ThreadingWSGIServer,
        handler_class=QuietHandler,
    ) as server:
        print(f"sandbox provider and carrier on http://{arguments.host}:{arguments.port}")
        server.serve_forever()


def burst(arguments: argparse.Namespace, settings: SandboxSettings) -> None:
    if arguments.references:
        with open(arguments.references) as lines:
            references = [line.strip() for line in lines if line.strip()]
    else:
        references = [provider_id("pay") for _ in range(arguments.events)]
    checkouts = [
        Checkout(payment_reference=reference, amount_minor=arguments.amount, currency="EUR")
        for reference in references[: arguments.events]
    ]
    report = burst_run(
        WebhookSender(settings),
        checkouts,
        concurrency=arguments.concurrency,
        duplicate_ratio=arguments.duplicates / 100,
        out_of_order_ratio=arguments.out_of_order / 100,
        seed=arguments.seed,
    )
    quantiles = statistics.quantiles(report.seconds, n=100) if len(report.seconds) > 1 else [0.0]
    print(
        json.dumps(
            {
                "sent": report.sent,
                "acknowledged": report.acknowledged,
                "failed": report.failed,
                "unique_events": report.unique_events,
                "ack_p50_seconds": quantiles[len(quantiles) // 2],
                "ack_p99_seconds": quantiles[-1],
                "answers": dict(sorted(report.answers.items())),
            }
        )
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="tessera-sandbox")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="serve the pay page and carrier API")
    serve_parser.add_argument("--host", default="127.0.0.1")
    serve_parser.add_argument("--port", type=int, default=8003)
    burst_parser = commands.add_parser("burst", help="send a burst of signed payment webhooks")
    burst_parser.add_argument("--events", type=int, default=100, help="checkouts to pay")
    burst_parser.add_argument("--concurrency", type=int, default=10)
    burst_parser.add_argument("--duplicates", type=float, default=10, help="percent sent twice")
    burst_parser.add_argument(
        "--out-of-order", type=float, default=10, help="percent refunded before paid"
    )
    burst_parser.add_argument("--amount", type=int, default=1000, help="minor units")
    burst_parser.add_argument("--references", help="file of payment references, one per line")
    burst_parser.add_argument("--seed", type=int)
    arguments = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        settings = SandboxSettings.from_environment()
    except SandboxConfigurationError as error:
        sys.exit(f"tessera-sandbox: {error}")
    if arguments.command == "serve":
        serve(arguments, settings)
    else:
        burst(arguments, settings)


if __name__ == "__main__":
    main()
