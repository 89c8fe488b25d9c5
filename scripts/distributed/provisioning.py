"""The machine's services (PostgreSQL, RabbitMQ, Redis) and every step before the first start."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

from scripts import headless_storefront
from scripts.components import manage
from scripts.distributed.nginx import nginx_binary, nginx_config_render
from scripts.distributed.topology import SetupError, Topology, ports_check
from scripts.process_supervisor import REPO_ROOT, step


def postgres_databases_ensure(topology: Topology) -> None:
    import psycopg
    from psycopg import sql

    try:
        with psycopg.connect(topology.postgres_url, autocommit=True, connect_timeout=5) as db:
            for name in (topology.monolith_database, topology.processing_database):
                if topology.fresh:
                    step(f"Dropping the PostgreSQL database {name} (--fresh)")
                    db.execute(
                        sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                            sql.Identifier(name)
                        )
                    )
                exists = db.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
                if exists.fetchone() is None:
                    step(f"Creating the PostgreSQL database {name}")
                    db.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.OperationalError as error:
        where = urlsplit(topology.postgres_url).netloc
        raise SetupError(f"PostgreSQL is not reachable at {where}: {error}") from error


def rabbitmq_vhost_ensure(topology: Topology) -> None:
    from kombu import Connection

    def reachable() -> bool:
        try:
            with Connection(topology.broker_url, connect_timeout=3) as connection:
                connection.ensure_connection(max_retries=1)
            return True
        except Exception:  # any failure means "not usable yet"; told below
            return False

    if reachable():
        return
    rabbitmqctl = shutil.which("rabbitmqctl")
    if rabbitmqctl is None:
        raise SetupError(
            f"RabbitMQ's vhost {topology.vhost} is not reachable, and rabbitmqctl is missing "
            "to create it"
        )
    step(f"Creating the RabbitMQ vhost {topology.vhost}")
    user = urlsplit(topology.rabbitmq_url).username or "guest"
    vhost = topology.vhost
    for command in (["add_vhost", vhost], ["set_permissions", "-p", vhost, user, ".*", ".*", ".*"]):
        # add_vhost fails harmlessly when the vhost exists; set_permissions is idempotent.
        subprocess.run([rabbitmqctl, *command], capture_output=True, timeout=60, check=False)
    if not reachable():
        where = urlsplit(topology.rabbitmq_url).netloc.rsplit("@", 1)[-1]
        raise SetupError(f"RabbitMQ is not reachable at {where} (vhost {topology.vhost})")


def queues_and_cache_empty(topology: Topology) -> None:
    """--fresh: no message or cached value of an earlier run may reach this one."""
    import redis

    step("Emptying the cache and the queues (--fresh)")
    redis.Redis.from_url(topology.redis_url, socket_connect_timeout=3).flushdb()
    if topology.broker != "rabbitmq":
        return  # the Redis broker shares the cache's database, just flushed
    rabbitmqctl = shutil.which("rabbitmqctl")
    if rabbitmqctl is None:
        raise SetupError("--fresh needs rabbitmqctl to empty the vhost's queues")
    user = urlsplit(topology.rabbitmq_url).username or "guest"
    vhost = topology.vhost
    for command in (
        ["delete_vhost", vhost],
        ["add_vhost", vhost],
        ["set_permissions", "-p", vhost, user, ".*", ".*", ".*"],
    ):
        subprocess.run([rabbitmqctl, *command], capture_output=True, timeout=60, check=False)


def redis_check(topology: Topology) -> None:
    import redis

    try:
        redis.Redis.from_url(topology.redis_url, socket_connect_timeout=3).ping()
    except redis.RedisError as error:
        where = urlsplit(topology.redis_url).netloc
        raise SetupError(f"Redis is not reachable at {where}: {error}") from error


def run_step(message: str, argv: list[str], env: dict[str, str], log: Path) -> None:
    step(message)
    with log.open("ab") as output:
        result = subprocess.run(
            argv, env={**os.environ, **env}, cwd=REPO_ROOT, stdout=output, stderr=output
        )
    if result.returncode != 0:
        tail = log.read_text(errors="replace").splitlines()[-15:]
        raise SetupError(f"{message} failed (exit {result.returncode}):\n" + "\n".join(tail))


def prepare(topology: Topology, envs: dict[str, dict[str, str]]) -> Path:
    """Everything before the first process starts; safe to repeat on every start."""
    if topology.fresh:
        shutil.rmtree(topology.folder("media"), ignore_errors=True)
    for name in ("static", "media", "logs", "nginx", "run"):
        topology.folder(name).mkdir(parents=True, exist_ok=True)
    (topology.folder("run") / "state.json").unlink(missing_ok=True)
    step("Checking ports, nginx and the machine's services")
    ports_check(topology)
    nginx_binary()
    postgres_databases_ensure(topology)
    redis_check(topology)
    if topology.broker == "rabbitmq":
        rabbitmq_vhost_ensure(topology)
    if topology.fresh:
        queues_and_cache_empty(topology)
    log = topology.folder("logs") / "prepare.log"
    monolith, processing = envs["monolith"], envs["processing"]
    run_step(
        f"Migrating the monolith's database ({topology.monolith_database})",
        manage("monolith", "migrate", "--no-input", "-v", "0"),
        monolith,
        log,
    )
    run_step(
        f"Migrating the processing service's database ({topology.processing_database})",
        manage("processing", "migrate", "--no-input", "-v", "0"),
        processing,
        log,
    )
    run_step(
        f"Collecting static files into {topology.folder('static')}",
        manage("monolith", "collectstatic", "--no-input", "-v", "0"),
        monolith,
        log,
    )
    run_step(
        f"Collecting the processing admin's static files into "
        f"{topology.folder('processing-static')}",
        manage("processing", "collectstatic", "--no-input", "-v", "0"),
        processing,
        log,
    )
    # The demo logins have public passwords, so seed_demo refuses them with DEBUG off. This
    # run serves loopback only and wants them, like `make run`: seed on the local settings,
    # against this run's database and media folder.
    run_step(
        "Seeding demo data (demo logins included: loopback only)",
        manage("monolith", "seed_demo"),
        {**monolith, "DJANGO_SETTINGS_MODULE": "monolith.settings.local"},
        log,
    )
    step(
        f"Building the headless storefront into {topology.folder('headless')} "
        f"(API at {topology.public_url}; only when its sources or that origin changed)"
    )
    headless_storefront.build(api_origin=topology.public_url, out_dir=topology.folder("headless"))
    step("Rendering nginx's configuration from infra/nginx/templates/")
    return nginx_config_render(topology)
