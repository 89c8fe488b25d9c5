"""`make distributed`: Tessera's distributed topology as processes on loopback.

The same code as `make run`, placed as in deployment and configured by environment only:

    nginx :8080 ──> monolith replica A :8010 ─┐ (gunicorn, production settings)
                └─> monolith replica B :8011 ─┴─> PostgreSQL tessera_dist_monolith
    nginx :8084: the headless storefront's build, calling the API on :8080 across origins
    monolith worker (Celery) <── RabbitMQ vhost tessera-distributed ──> processing workers
    processing API :8001 (gunicorn) ──> PostgreSQL tessera_dist_processing
    webhook functions :8002 (gunicorn) ──> RabbitMQ;  sandbox provider and carrier :8003
    Redis db 9: the monolith's shared cache (API throttling counters across replicas)

Steps: check the machine's services, create the databases and the vhost when missing,
migrate, collect static files, seed demo data, build the headless storefront, render nginx's
configuration, start every part and wait until each is ready, print where everything is, then
supervise. Ctrl-C or SIGTERM stops every part, nginx included. Runtime state lives under
var/distributed/ (static, media, the headless build, logs, nginx's prefix, run/state.json
while everything is ready). The steps live by concern in scripts/distributed/ (topology,
provisioning, environments, nginx); this file starts the parts and supervises them.

    .venv/bin/python scripts/run_distributed.py --help     # every flag and its variable
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from urllib.parse import urlsplit

if __package__ in (None, ""):
    # Run as a script: make the `scripts` package importable from the repository root.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tessera_contract.messaging import PROCESSING_JOB_QUEUES, PROCESSING_RESULTS_QUEUE

from scripts.components import (
    DjangoProject,
    celery_worker,
    functions_serve,
    gunicorn,
    ready_url,
    sandbox_serve,
)
from scripts.distributed.environments import environments, generated_secrets
from scripts.distributed.nginx import nginx_binary, nginx_static_check
from scripts.distributed.provisioning import prepare
from scripts.distributed.topology import (
    SetupError,
    Topology,
    parse_arguments,
    replica_letter,
    topology_from,
)
from scripts.process_supervisor import (
    Component,
    start,
    step,
    stop,
    stop_signals_handle,
    stop_signals_ignore,
    supervise,
    wait_until_ready,
)

# Every part starts at once and shares two cores with whatever else runs.
READY_TIMEOUT_SECONDS = 120


def components(topology: Topology, envs: dict[str, dict[str, str]], conf: Path) -> list[Component]:
    logs = topology.folder("logs")

    def celery(app: DjangoProject, node: str, *options: str) -> list[str]:
        return celery_worker(app, "-n", f"{node}@%h", *options)

    parts = [
        Component(
            name="provider and carrier sandbox",
            argv=sandbox_serve(topology.sandbox_port),
            ready_url=ready_url(topology.sandbox_port),
            env=envs["sandbox"],
            log_path=logs / "sandbox.log",
        ),
        Component(
            name="webhook functions",
            argv=functions_serve(),
            ready_url=ready_url(topology.functions_port),
            env=envs["functions"],
            log_path=logs / "functions.log",
        ),
        Component(
            name="processing API",
            argv=gunicorn(
                "processing.wsgi:application",
                topology.processing_port,
                name="tessera-processing",
                workers=2,
            ),
            ready_url=ready_url(topology.processing_port),
            env=envs["processing"],
            log_path=logs / "processing-api.log",
        ),
        Component(
            name="processing jobs worker",
            argv=celery(
                "processing",
                "processing-jobs",
                *("-Q", ",".join(PROCESSING_JOB_QUEUES.values())),
                *("--concurrency", str(topology.processing_workers)),
                *("--loglevel", "INFO"),
            ),
            env=envs["processing"],
            log_path=logs / "processing-worker-jobs.log",
        ),
        Component(
            # Results wait for the monolith's callback: short, so they must not queue behind a
            # long report on the jobs worker.
            name="processing results worker",
            argv=celery(
                "processing",
                "processing-results",
                *("-Q", PROCESSING_RESULTS_QUEUE, "--concurrency", "1", "--loglevel", "INFO"),
            ),
            env=envs["processing"],
            log_path=logs / "processing-worker-results.log",
        ),
        Component(
            name="monolith worker",
            argv=celery("monolith", "monolith", "--concurrency", "2", "--loglevel", "INFO"),
            env=envs["monolith"],
            log_path=logs / "monolith-worker.log",
        ),
    ]
    for index, port in enumerate(topology.monolith_ports):
        letter = replica_letter(index)
        parts.append(
            Component(
                name=f"monolith replica {letter}",
                argv=gunicorn(
                    "monolith.wsgi:application",
                    port,
                    name=f"tessera-monolith-{letter.lower()}",
                    workers=topology.monolith_workers,
                ),
                ready_url=ready_url(port),
                env=envs["monolith"],
                log_path=logs / f"monolith-{letter.lower()}.log",
                group="monolith",
            )
        )
    prefix = topology.folder("nginx")
    parts.append(
        Component(
            name="nginx",
            argv=[
                *(nginx_binary(), "-p", str(prefix), "-c", str(conf)),
                *("-e", str(prefix / "logs" / "error.log"), "-g", "daemon off;"),
            ],
            # Through nginx to a replica: the whole front door answers.
            ready_url=f"{topology.public_url}/readyz",
            log_path=logs / "nginx.log",
        )
    )
    return parts


def state_write(topology: Topology, running: list[Component]) -> Path:
    """What a test or an operator needs to find each part: pid, URL, log."""
    path = topology.folder("run") / "state.json"
    state = {
        "public_url": topology.public_url,
        "headless_url": topology.headless_url,
        "components": {
            component.name: {
                "pid": component.process.pid if component.process else None,
                "ready_url": component.ready_url,
                "log": str(component.log_path) if component.log_path else None,
            }
            for component in running
        },
        "nginx_access_log": str(topology.folder("nginx") / "logs" / "access.log"),
        "nginx_error_log": str(topology.folder("nginx") / "logs" / "error.log"),
    }
    path.write_text(json.dumps(state, indent=2))
    return path


def banner(topology: Topology, running: list[Component]) -> str:
    from monolith.demo.services import DEMO_SHOPPER, DEMO_STAFF

    replicas = ", ".join(f"127.0.0.1:{port}" for port in topology.monolith_ports)
    broker = urlsplit(topology.broker_url)
    broker_where = f"{broker.scheme}://{broker.hostname}:{broker.port}{broker.path}"
    cache = urlsplit(topology.redis_url)
    lines = [
        "",
        "Tessera is running distributed on loopback.",
        f"  Shop           {topology.public_url}/   (nginx → monolith replicas {replicas})",
        f"  Admin          {topology.public_url}/admin/",
        f"  Headless shop  {topology.headless_url}/   (nginx, the built frontend/headless)",
        f"  Storefront API {topology.public_url}/api/v1/products",
        f"  Processing     http://127.0.0.1:{topology.processing_port}/healthz",
        f"  Webhooks       http://127.0.0.1:{topology.functions_port}/webhooks/payments"
        "  /webhooks/carrier",
        f"  Sandbox        http://127.0.0.1:{topology.sandbox_port}/",
        f"  PostgreSQL     {topology.monolith_database}, {topology.processing_database}",
        f"  Broker         {broker_where}",
        f"  Cache          {cache.hostname}:{cache.port}{cache.path}",
        f"  Static, media  {topology.folder('static')}, {topology.folder('media')}",
        f"  Shopper login  {DEMO_SHOPPER[0]} / {DEMO_SHOPPER[2]}",
        f"  Staff login    {DEMO_STAFF[0]} / {DEMO_STAFF[2]}",
        "  Logs",
    ]
    lines += [f"    {c.name:<30} {c.log_path}" for c in running if c.log_path]
    lines += [
        f"    {'nginx access, error':<30} {topology.folder('nginx') / 'logs'}/",
        "Press Ctrl-C to stop everything.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    stop_signals_handle()
    running: list[Component] = []
    try:
        topology = topology_from(arguments)
        envs = environments(topology, generated_secrets())
        conf = prepare(topology, envs)
        # All at once, then wait for each: no part needs another to start (workers and nginx
        # retry their connections), and nine Django start-ups in a row take long on two cores.
        for component in components(topology, envs, conf):
            running.append(component)  # first: a signal during start() still stops it
            start(component)
        for component in running:
            wait_until_ready(component, timeout=READY_TIMEOUT_SECONDS)
        nginx_static_check(topology)
        state = state_write(topology, running)
        print(banner(topology, running), flush=True)
        step(f"Every part is ready; their pids are in {state}")
        if arguments.check:
            return 0
        return supervise(running)
    except KeyboardInterrupt:
        print("\nStopping Tessera…", flush=True)
        return 0
    except (SetupError, RuntimeError) as error:
        print(f"Tessera could not start: {error}", file=sys.stderr, flush=True)
        return 1
    finally:
        stop_signals_ignore()
        stop(list(reversed(running)))
        if running:
            (Path(arguments.var_dir).resolve() / "run" / "state.json").unlink(missing_ok=True)
            print("Tessera stopped.", flush=True)


if __name__ == "__main__":
    import django

    # Only to read the demo logins for the banner; every part gets its own settings.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "monolith.settings.local")
    django.setup()
    sys.exit(main())
