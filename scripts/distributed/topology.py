"""Where every part of the distributed run listens and which services it uses, from the flags."""

from __future__ import annotations

import argparse
import os
import string
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from scripts.components import FUNCTIONS_PORT, NGINX_PORT, PROCESSING_PORT, SANDBOX_PORT
from scripts.process_supervisor import REPO_ROOT, ports_taken

DATABASE_PREFIX = "tessera_dist"
VHOST = "tessera-distributed"


class SetupError(RuntimeError):
    """A machine service is missing or a preparation step failed; the message says which."""


@dataclass(frozen=True)
class Topology:
    """Where every part listens and which services it uses."""

    var_dir: Path
    nginx_port: int
    headless_port: int
    monolith_ports: tuple[int, ...]
    processing_port: int
    functions_port: int
    sandbox_port: int
    postgres_url: str
    broker: str
    rabbitmq_url: str
    redis_url: str
    monolith_workers: int
    processing_workers: int
    database_prefix: str = DATABASE_PREFIX
    vhost: str = VHOST
    # Start from empty databases, queues, cache and media (a test's run: nothing left over
    # from an earlier run may answer for this one, e.g. a job found by its idempotency key).
    fresh: bool = False

    @property
    def monolith_database(self) -> str:
        return f"{self.database_prefix}_monolith"

    @property
    def processing_database(self) -> str:
        return f"{self.database_prefix}_processing"

    @property
    def public_url(self) -> str:
        return f"http://127.0.0.1:{self.nginx_port}"

    @property
    def headless_url(self) -> str:
        return f"http://127.0.0.1:{self.headless_port}"

    def database_url(self, name: str) -> str:
        return urlunsplit(urlsplit(self.postgres_url)._replace(path=f"/{name}"))

    @property
    def broker_url(self) -> str:
        if self.broker == "redis":
            return self.redis_url
        return urlunsplit(urlsplit(self.rabbitmq_url)._replace(path=f"/{self.vhost}"))

    def folder(self, name: str) -> Path:
        return self.var_dir / name


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="run_distributed.py",
        description="Tessera's distributed topology on loopback (`make distributed`).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    prefix = "TESSERA_DISTRIBUTED_"

    def option(flag: str, variable: str, default: str, help_text: str) -> None:
        parser.add_argument(
            flag,
            default=os.environ.get(prefix + variable) or default,
            help=f"{help_text} (env {prefix}{variable})",
        )

    option("--var-dir", "VAR_DIR", str(REPO_ROOT / "var" / "distributed"), "runtime folder")
    option("--nginx-port", "NGINX_PORT", str(NGINX_PORT), "nginx, the public entry")
    option("--headless-port", "HEADLESS_PORT", "8084", "the headless storefront, through nginx")
    option("--monolith-ports", "MONOLITH_PORTS", "8010,8011", "one monolith replica per port")
    option("--processing-port", "PROCESSING_PORT", str(PROCESSING_PORT), "processing API")
    option("--functions-port", "FUNCTIONS_PORT", str(FUNCTIONS_PORT), "webhook functions")
    option("--sandbox-port", "SANDBOX_PORT", str(SANDBOX_PORT), "provider and carrier sandbox")
    option(
        "--postgres-url",
        "POSTGRES_URL",
        "postgres://postgres@127.0.0.1:5432/postgres",
        "PostgreSQL server (the databases are named by the run)",
    )
    option("--broker", "BROKER", "rabbitmq", "Celery and webhook broker: rabbitmq or redis")
    option(
        "--rabbitmq-url",
        "RABBITMQ_URL",
        "amqp://guest:guest@127.0.0.1:5672/",
        "RabbitMQ server",
    )
    option("--redis-url", "REDIS_URL", "redis://127.0.0.1:6379/9", "Redis database (cache)")
    option("--database-prefix", "DATABASE_PREFIX", DATABASE_PREFIX, "databases <prefix>_<service>")
    option("--vhost", "VHOST", VHOST, "RabbitMQ vhost (created when missing)")
    option("--monolith-workers", "MONOLITH_WORKERS", "2", "gunicorn workers per replica")
    option("--processing-workers", "PROCESSING_WORKERS", "2", "Celery processes per job worker")
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="drop and recreate the databases, purge the queues, flush the cache, empty media",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="stop everything and exit 0 as soon as every part is ready",
    )
    return parser.parse_args(argv)


def topology_from(arguments: argparse.Namespace) -> Topology:
    if arguments.broker not in {"rabbitmq", "redis"}:
        raise SetupError(f"--broker must be rabbitmq or redis, not {arguments.broker!r}")
    ports = tuple(int(port) for port in str(arguments.monolith_ports).split(",") if port.strip())
    if len(ports) < 1:
        raise SetupError("--monolith-ports needs at least one port")
    return Topology(
        var_dir=Path(arguments.var_dir).resolve(),
        nginx_port=int(arguments.nginx_port),
        headless_port=int(arguments.headless_port),
        monolith_ports=ports,
        processing_port=int(arguments.processing_port),
        functions_port=int(arguments.functions_port),
        sandbox_port=int(arguments.sandbox_port),
        postgres_url=arguments.postgres_url,
        broker=arguments.broker,
        rabbitmq_url=arguments.rabbitmq_url,
        redis_url=arguments.redis_url,
        monolith_workers=int(arguments.monolith_workers),
        processing_workers=int(arguments.processing_workers),
        database_prefix=arguments.database_prefix,
        vhost=arguments.vhost,
        fresh=arguments.fresh,
    )


def replica_letter(index: int) -> str:
    return string.ascii_uppercase[index]


def ports_check(topology: Topology) -> None:
    """Fail before anything starts when a port is taken (often by `make run`: 8001-8003)."""
    wanted = {
        "nginx": topology.nginx_port,
        "headless storefront (nginx)": topology.headless_port,
        "processing API": topology.processing_port,
        "webhook functions": topology.functions_port,
        "sandbox": topology.sandbox_port,
    }
    for index, port in enumerate(topology.monolith_ports):
        wanted[f"monolith replica {replica_letter(index)}"] = port
    taken = ports_taken(wanted)
    if taken:
        raise SetupError(
            f"ports already in use: {', '.join(taken)}; is `make run` or another distributed "
            "run up? Choose others with the --*-port flags."
        )
