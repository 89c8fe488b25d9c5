"""`make run`: prepare the embedded default and start every part of Tessera on this machine.

Steps: migrate the SQLite database, seed demo data, start each component, wait until each
answers its /readyz, print the URLs and demo logins, then wait. Ctrl-C stops everything; if
one part dies, the others are stopped too, so a half-running platform never lingers.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):
    # Run as a script: make the `scripts` package importable from the repository root.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tessera_contract.messaging import PROCESSING_QUEUES

from scripts import headless_storefront
from scripts.components import (
    FUNCTIONS_PORT,
    HEADLESS_PORT,
    MONOLITH_PORT,
    PROCESSING_PORT,
    SANDBOX_PORT,
    celery_worker,
    functions_cloud_function_serve,
    functions_serve,
    manage,
    ready_url,
    runserver,
    sandbox_serve,
)
from scripts.process_supervisor import (
    REPO_ROOT,
    Component,
    ports_taken,
    start,
    step,
    stop,
    stop_signals_handle,
    stop_signals_ignore,
    supervise,
    wait_until_ready,
)

# Where the run keeps its state (databases, media, broker files, cache); every component reads
# the same TESSERA_VAR_DIR, so a second checkout's state (or a test's) stays apart.
VAR_DIR = Path(os.environ.get("TESSERA_VAR_DIR") or REPO_ROOT / "var")

# The processing service owns its database: never the monolith's DATABASE_URL.
PROCESSING_ENV = {
    # This script sets the monolith's settings module for itself; processing needs its own.
    "DJANGO_SETTINGS_MODULE": "processing.settings.local",
    "PROCESSING_DATABASE_URL": os.environ.get(
        "PROCESSING_DATABASE_URL", f"sqlite:///{VAR_DIR / 'processing.sqlite3'}"
    ),
}


# The embedded run's webhook secrets: the sandbox signs with them, the functions verify with
# them. Public on purpose, for the laptop only; real environment variables win.
DEMO_WEBHOOK_SECRETS = {
    "PAYMENT_WEBHOOK_SECRETS": "whsec_tessera_local_payments_demo",
    "CARRIER_WEBHOOK_SECRETS": "whsec_dGVzc2VyYS1sb2NhbC1jYXJyaWVyLWRlbW8tc2VjcmV0",
}


# The embedded run's internal secrets and addresses: the monolith signs its service tokens and
# verifies job-result callbacks with the same values the processing service reads (both read
# these variable names). Public on purpose, for the laptop only; real environment variables win.
DEMO_INTERNAL_SETTINGS = {
    "SERVICE_TOKEN_KEYS": "local:local-development-only-service-token-key-32b",
    "JOB_RESULT_CALLBACK_SECRETS": "whsec_bG9jYWwtZGV2ZWxvcG1lbnQtb25seS1jYWxsYmFjaw==",
    # Where the monolith submits jobs, and where processing posts their results.
    "PROCESSING_API_URL": "http://127.0.0.1:8001",
    "MONOLITH_CALLBACK_URL": "http://127.0.0.1:8000",
}


# `make run PLACEMENT=…`: where each part runs, as the monolith's two settings. A part's own
# variable (PROCESSING_PLACEMENT, WEBHOOK_RECEIVERS_PLACEMENT) wins over the preset.
PLACEMENT_PRESETS = {
    # Every part in its own process: the processing service, the webhook functions.
    "hybrid": {"PROCESSING_PLACEMENT": "service", "WEBHOOK_RECEIVERS_PLACEMENT": "function"},
    # One Django process and one worker do everything.
    "monolith": {"PROCESSING_PLACEMENT": "inline", "WEBHOOK_RECEIVERS_PLACEMENT": "inline"},
}


@dataclass(frozen=True)
class Placements:
    processing: str  # service | inline
    receivers: str  # function | cloud-function | inline

    @classmethod
    def from_environment(cls, preset: str) -> Placements:
        if preset not in PLACEMENT_PRESETS:
            raise ValueError(f"PLACEMENT={preset!r}: choose one of {', '.join(PLACEMENT_PRESETS)}")
        for name, value in PLACEMENT_PRESETS[preset].items():
            os.environ.setdefault(name, value)
        return cls(
            processing=os.environ["PROCESSING_PLACEMENT"],
            receivers=os.environ["WEBHOOK_RECEIVERS_PLACEMENT"],
        )

    @property
    def receivers_url(self) -> str:
        port = MONOLITH_PORT if self.receivers == "inline" else FUNCTIONS_PORT
        return f"http://127.0.0.1:{port}/webhooks"


def components(placements: Placements) -> list[Component]:
    monolith = [
        Component(
            name="monolith",
            argv=runserver("monolith", MONOLITH_PORT),
            ready_url=ready_url(MONOLITH_PORT),
        ),
        Component(
            # Applies queued webhook envelopes (the inbox consumer step) and order tasks, and
            # runs the processing jobs when they are inline.
            name="monolith worker",
            argv=celery_worker("monolith", "--loglevel", "INFO"),
        ),
    ]
    functions = [
        Component(
            name="webhook functions",
            # Their own server, or Google Cloud Functions' runtime serving the same code.
            argv=(
                functions_cloud_function_serve(FUNCTIONS_PORT)
                if placements.receivers == "cloud-function"
                else functions_serve()
            ),
            ready_url=ready_url(FUNCTIONS_PORT),
        )
    ]
    processing = [
        Component(
            name="processing API",
            argv=runserver("processing", PROCESSING_PORT),
            ready_url=ready_url(PROCESSING_PORT),
            env=PROCESSING_ENV,
        ),
        Component(
            # Embedded: one worker for every queue; deployed, one worker per queue.
            name="processing worker",
            argv=celery_worker(
                "processing",
                *("-Q", ",".join(PROCESSING_QUEUES), "--concurrency", "2", "--loglevel", "INFO"),
            ),
            env=PROCESSING_ENV,
        ),
    ]
    outside = [
        Component(
            name="provider and carrier sandbox",
            argv=sandbox_serve(SANDBOX_PORT),
            ready_url=ready_url(SANDBOX_PORT),
            # The sandbox signs with exactly the secrets the receivers verify with, and sends
            # to wherever the receivers run.
            env={
                "SANDBOX_PAYMENT_SECRETS": os.environ.get("PAYMENT_WEBHOOK_SECRETS", ""),
                "SANDBOX_CARRIER_SECRETS": os.environ.get("CARRIER_WEBHOOK_SECRETS", ""),
                "SANDBOX_PAYMENTS_WEBHOOK_URL": f"{placements.receivers_url}/payments",
                "SANDBOX_CARRIER_WEBHOOK_URL": f"{placements.receivers_url}/carrier",
            },
        ),
        Component(
            # The decoupled storefront on its own origin, calling the monolith's API across origins.
            name="headless storefront",
            argv=headless_storefront.serve_argv(HEADLESS_PORT),
            ready_url=ready_url(HEADLESS_PORT),
        ),
    ]
    return [
        *monolith,
        *(functions if placements.receivers != "inline" else []),
        *(processing if placements.processing == "service" else []),
        *outside,
    ]


def prepare(placements: Placements) -> None:
    """Create the runtime folders, migrate and seed; safe to repeat on every start."""
    for folder in (VAR_DIR, VAR_DIR / "media", VAR_DIR / "broker"):
        folder.mkdir(parents=True, exist_ok=True)
    step("Migrating the monolith's database")
    subprocess.run(manage("monolith", "migrate", "--no-input", "-v", "0"), check=True)
    if placements.processing == "service":
        step("Migrating the processing service's database")
        subprocess.run(
            manage("processing", "migrate", "--no-input", "-v", "0"),
            check=True,
            env={**os.environ, **PROCESSING_ENV},
        )
    step("Seeding demo data")
    subprocess.run(manage("monolith", "seed_demo"), check=True)
    step("Building the headless storefront (only when its sources changed)")
    headless_storefront.build(api_origin="http://127.0.0.1:8000")


def banner(placements: Placements) -> str:
    from monolith.demo.services import DEMO_SHOPPER, DEMO_STAFF

    processing = {
        "service": "processing service  http://127.0.0.1:8001/healthz",
        "inline": "inline, in the monolith worker",
    }[placements.processing]
    receivers = {
        "function": "webhook functions",
        "cloud-function": "webhook functions (functions-framework)",
        "inline": "inline, in the monolith",
    }[placements.receivers]
    return "\n".join(
        [
            "",
            "Tessera is running on embedded defaults (SQLite, local files).",
            "  Shop           http://127.0.0.1:8000/",
            "  Admin          http://127.0.0.1:8000/admin/",
            "  Storefront API http://127.0.0.1:8000/api/v1/products",
            "Where each part runs (make run PLACEMENT=hybrid|monolith; docs/architecture.md):",
            f"  Jobs           {processing}",
            f"  Webhooks       {receivers}  {placements.receivers_url}/payments  /carrier",
            "  Sandbox        http://127.0.0.1:8003/ (payment provider and carrier)",
            "  Headless shop  http://127.0.0.1:8004/ (frontend/headless, API across origins)",
            "  Health         /healthz and /readyz on every port",
            f"  Shopper login  {DEMO_SHOPPER[0]} / {DEMO_SHOPPER[2]}",
            f"  Staff login    {DEMO_STAFF[0]} / {DEMO_STAFF[2]}",
            "Press Ctrl-C to stop everything.",
            "",
        ]
    )


PORTS = {
    "monolith": MONOLITH_PORT,
    "processing API": PROCESSING_PORT,
    "webhook functions": FUNCTIONS_PORT,
    "provider and carrier sandbox": SANDBOX_PORT,
    "headless storefront": HEADLESS_PORT,
}


def main(placement: str) -> int:
    for name, value in {**DEMO_WEBHOOK_SECRETS, **DEMO_INTERNAL_SETTINGS}.items():
        os.environ.setdefault(name, value)
    try:
        placements = Placements.from_environment(placement)
    except ValueError as error:
        print(f"Tessera could not start: {error}", file=sys.stderr)
        return 2
    planned = components(placements)
    taken = ports_taken(
        {name: port for name, port in PORTS.items() if name in {c.name for c in planned}}
    )
    if taken:
        print(
            f"Tessera could not start: ports already in use: {', '.join(taken)}. "
            "Is another `make run` or `make distributed` up?",
            file=sys.stderr,
        )
        return 1
    stop_signals_handle()
    prepare(placements)
    running: list[Component] = []
    try:
        for component in planned:
            start(component)
            running.append(component)
            wait_until_ready(component)
        print(banner(placements), flush=True)
        return supervise(running)
    except KeyboardInterrupt:
        print("\nStopping Tessera…", flush=True)
        return 0
    except RuntimeError as error:
        print(f"Tessera could not start: {error}", file=sys.stderr)
        return 1
    finally:
        stop_signals_ignore()
        stop(running)


if __name__ == "__main__":
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "monolith.settings.local")
    django.setup()
    sys.exit(main(os.environ.get("PLACEMENT", "hybrid")))
