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
while everything is ready).

    .venv/bin/python scripts/run_distributed.py --help     # every flag and its variable
"""

from __future__ import annotations

import argparse
import grp
import json
import os
import pwd
import re
import secrets
import shutil
import string
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

if __package__ in (None, ""):
    # Run as a script: make the `scripts` package importable from the repository root.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tessera_contract.messaging import PROCESSING_JOB_QUEUES, PROCESSING_RESULTS_QUEUE

from scripts import headless_storefront
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

PYTHON = sys.executable
# Every part starts at once and shares two cores with whatever else runs.
READY_TIMEOUT_SECONDS = 120
DATABASE_PREFIX = "tessera_dist"
VHOST = "tessera-distributed"
NGINX_TEMPLATES = REPO_ROOT / "infra" / "nginx" / "templates"
NGINX_TEMPLATE = NGINX_TEMPLATES / "tessera.conf.template"
# The headless storefront's own server block: its built files on their own origin.
NGINX_HEADLESS_TEMPLATE = NGINX_TEMPLATES / "headless.conf.template"
# The demo webhook secrets of `make run`: the sandbox signs with them, the functions verify.
# Public on purpose, for loopback only; real environment variables win.
DEMO_WEBHOOK_SECRETS = {
    "PAYMENT_WEBHOOK_SECRETS": "whsec_tessera_local_payments_demo",
    "CARRIER_WEBHOOK_SECRETS": "whsec_dGVzc2VyYS1sb2NhbC1jYXJyaWVyLWRlbW8tc2VjcmV0",
}


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


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


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
    option("--nginx-port", "NGINX_PORT", "8080", "nginx, the public entry")
    option("--headless-port", "HEADLESS_PORT", "8084", "the headless storefront, through nginx")
    option("--monolith-ports", "MONOLITH_PORTS", "8010,8011", "one monolith replica per port")
    option("--processing-port", "PROCESSING_PORT", "8001", "processing API")
    option("--functions-port", "FUNCTIONS_PORT", "8002", "webhook functions")
    option("--sandbox-port", "SANDBOX_PORT", "8003", "provider and carrier sandbox")
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


# --- The machine's services -------------------------------------------------------------


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


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else "")
    if not found:
        raise SetupError("nginx is not installed: run `bash scripts/ensure_nginx.sh`")
    return found


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


# --- Configuration ----------------------------------------------------------------------


def replica_letter(index: int) -> str:
    return string.ascii_uppercase[index]


def generated_secrets() -> dict[str, str]:
    """The run's own secrets, unless the environment sets them; kept in memory only.

    They change on every start, so sessions and in-flight job callbacks do not survive a
    restart of the run; set them in the environment to keep them.
    """
    from tessera_contract.signing import standard_webhook_secret_generate

    values = {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "PROCESSING_DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "SERVICE_TOKEN_KEYS": f"dist:{secrets.token_urlsafe(32)}",
        "JOB_RESULT_CALLBACK_SECRETS": standard_webhook_secret_generate(),
        **DEMO_WEBHOOK_SECRETS,
    }
    return {name: os.environ.get(name) or value for name, value in values.items()}


def environments(topology: Topology, keys: dict[str, str]) -> dict[str, dict[str, str]]:
    """Each part's variables: the settings that differ from `make run`, in one place."""
    sandbox = f"http://127.0.0.1:{topology.sandbox_port}"
    processing = f"http://127.0.0.1:{topology.processing_port}"
    functions = f"http://127.0.0.1:{topology.functions_port}"
    origins = f"{topology.public_url},http://localhost:{topology.nginx_port}"
    headless_origins = f"{topology.headless_url},http://localhost:{topology.headless_port}"
    shared = {
        "TESSERA_VAR_DIR": str(topology.var_dir),
        "CELERY_BROKER_URL": topology.broker_url,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_READ_DOT_ENV_FILE": "false",
        "SERVICE_TOKEN_KEYS": keys["SERVICE_TOKEN_KEYS"],
        "JOB_RESULT_CALLBACK_SECRETS": keys["JOB_RESULT_CALLBACK_SECRETS"],
    }
    monolith = {
        **shared,
        "DJANGO_SETTINGS_MODULE": "monolith.settings.production",
        "DJANGO_SECRET_KEY": keys["DJANGO_SECRET_KEY"],
        "DATABASE_URL": topology.database_url(topology.monolith_database),
        "CACHE_URL": topology.redis_url,
        "DJANGO_STATIC_ROOT": str(topology.folder("static")),
        "DJANGO_MEDIA_ROOT": str(topology.folder("media")),
        "DJANGO_CSRF_TRUSTED_ORIGINS": origins,
        # The headless storefront calls the API from its own origin.
        "TESSERA_CORS_ALLOWED_ORIGINS": headless_origins,
        # Plain HTTP on loopback: no TLS redirect, cookies without the Secure flag.
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_SECURE_COOKIES": "false",
        "PAYMENT_PROVIDER_URL": sandbox,
        "CARRIER_API_URL": sandbox,
        "PROCESSING_API_URL": processing,
    }
    processing_env = {
        **shared,
        "DJANGO_SETTINGS_MODULE": "processing.settings.production",
        "DJANGO_SECRET_KEY": keys["PROCESSING_DJANGO_SECRET_KEY"],
        "PROCESSING_DATABASE_URL": topology.database_url(topology.processing_database),
        "PROCESSING_MEDIA_ROOT": str(topology.folder("media")),
        "DJANGO_STATIC_ROOT": str(topology.folder("processing-static")),
        # Results are called back through nginx, so either replica accepts them.
        "MONOLITH_CALLBACK_URL": topology.public_url,
    }
    functions_env = {
        "TESSERA_VAR_DIR": str(topology.var_dir),
        "WEBHOOKS_BROKER_URL": topology.broker_url,
        "WEBHOOKS_BIND": f"127.0.0.1:{topology.functions_port}",
        "PAYMENT_WEBHOOK_SECRETS": keys["PAYMENT_WEBHOOK_SECRETS"],
        "CARRIER_WEBHOOK_SECRETS": keys["CARRIER_WEBHOOK_SECRETS"],
    }
    sandbox_env = {
        "SANDBOX_PAYMENT_SECRETS": keys["PAYMENT_WEBHOOK_SECRETS"],
        "SANDBOX_CARRIER_SECRETS": keys["CARRIER_WEBHOOK_SECRETS"],
        "SANDBOX_PAYMENTS_WEBHOOK_URL": f"{functions}/webhooks/payments",
        "SANDBOX_CARRIER_WEBHOOK_URL": f"{functions}/webhooks/carrier",
        # The pay page sends the shopper back to the shop, which is nginx now, or to the
        # headless storefront.
        "SANDBOX_RETURN_ORIGINS": f"{origins},{headless_origins}",
    }
    return {
        "monolith": monolith,
        "processing": processing_env,
        "functions": functions_env,
        "sandbox": sandbox_env,
    }


def nginx_user_directive() -> list[str]:
    """nginx's `user` line: its workers run as the user who runs this command.

    Started as root, nginx's master switches its workers to `nobody` unless told otherwise.
    The static and media roots live in this checkout, written by the run's own processes as
    the user who started it, and a checkout often sits in a folder only its owner may enter
    (mode 0700, like many home folders and every `mktemp -d`): `nobody` then gets 404 for
    every file. Every other part of this run already runs as this user, so its workers add
    no privilege, and no file has to be made world-readable or copied out of the checkout.
    Started as anyone else, nginx cannot switch users and needs no such line.
    """
    if os.geteuid() != 0:
        return []
    user = pwd.getpwuid(os.geteuid()).pw_name
    group = grp.getgrgid(os.getegid()).gr_name
    return [f"user {user} {group};"]


def nginx_static_check(topology: Topology) -> None:
    """Fail the start, naming the folder, when nginx cannot serve the collected static files
    or the headless storefront's build.

    Without this, a page through nginx loads with no stylesheet and no htmx, and nothing
    says why: the access log of /static/ is off.
    """
    for url, root in (
        (f"{topology.public_url}/static/favicon.svg", topology.folder("static")),
        (f"{topology.headless_url}/", topology.folder("headless")),
    ):
        try:
            with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 (http only)
                status = answer.status
        except urllib.error.HTTPError as error:
            status = error.code
        except OSError as error:
            raise SetupError(f"nginx did not answer {url}: {error}") from error
        if status != 200:
            error_log = topology.folder("nginx") / "logs" / "error.log"
            raise SetupError(
                f"nginx answers {status} for {url}: its workers cannot read {root} "
                f"(see {error_log})"
            )


def template_render(template: Path, values: dict[str, str]) -> str:
    """The template with its ${TESSERA_*} names replaced; fails on one left unrendered."""
    text = string.Template(template.read_text()).safe_substitute(values)
    leftover = re.findall(r"\$\{(TESSERA_\w+)\}", text)
    if leftover:
        raise SetupError(f"{template.name}: variables left unrendered: {sorted(set(leftover))}")
    return text


def nginx_config_render(topology: Topology) -> Path:
    """Render the server blocks and wrap them in a private nginx.conf; returns its path.

    The shop's block is shared with docker compose; the headless storefront's is this run's.
    Only the templates' ${TESSERA_*} names are replaced; nginx's own $variables stay.
    """
    prefix = topology.folder("nginx")
    for name in ("logs", "temp"):
        (prefix / name).mkdir(parents=True, exist_ok=True)
    ports = topology.monolith_ports
    values = {
        "TESSERA_NGINX_PORT": f"127.0.0.1:{topology.nginx_port}",
        "TESSERA_MONOLITH_UPSTREAM_A": f"127.0.0.1:{ports[0]}",
        "TESSERA_MONOLITH_UPSTREAM_B": f"127.0.0.1:{ports[1 if len(ports) > 1 else 0]}",
        "TESSERA_STATIC_ROOT": str(topology.folder("static")),
        "TESSERA_MEDIA_ROOT": str(topology.folder("media")),
    }
    server_block = template_render(NGINX_TEMPLATE, values)
    if len(ports) > 2:
        # More replicas than the template names: one more `server` line each, same options.
        first = f"server 127.0.0.1:{ports[1]} "
        extra = "".join(
            f"\n    server 127.0.0.1:{port} max_fails=2 fail_timeout=10s;" for port in ports[2:]
        )
        line_end = server_block.index("\n", server_block.index(first))
        server_block = server_block[:line_end] + extra + server_block[line_end:]
    (prefix / "tessera.conf").write_text(server_block)
    headless_values = {
        "TESSERA_HEADLESS_PORT": f"127.0.0.1:{topology.headless_port}",
        "TESSERA_HEADLESS_ROOT": str(topology.folder("headless")),
    }
    (prefix / "headless.conf").write_text(template_render(NGINX_HEADLESS_TEMPLATE, headless_values))
    temp = prefix / "temp"
    conf = prefix / "nginx.conf"
    conf.write_text(
        "\n".join(
            [
                "# Written by scripts/run_distributed.py on every start; edit the template.",
                *nginx_user_directive(),
                "worker_processes 2;",
                f"pid {prefix / 'nginx.pid'};",
                f"error_log {prefix / 'logs' / 'error.log'} notice;",
                "events { worker_connections 1024; }",
                "http {",
                "    include /etc/nginx/mime.types;",
                "    default_type application/octet-stream;",
                "    sendfile on;",
                *(
                    f"    {kind}_temp_path {temp / kind};"
                    for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
                ),
                f"    include {prefix / 'tessera.conf'};",
                f"    include {prefix / 'headless.conf'};",
                # After the include: the log format is defined there.
                f"    access_log {prefix / 'logs' / 'access.log'} tessera_upstream;",
                "}",
                "",
            ]
        )
    )
    return conf


# --- Preparation and components ---------------------------------------------------------


def manage(component: str, *args: str) -> list[str]:
    folder = {"monolith": "monolith", "processing": "services/processing"}[component]
    return [PYTHON, str(REPO_ROOT / folder / "manage.py"), *args]


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


def components(topology: Topology, envs: dict[str, dict[str, str]], conf: Path) -> list[Component]:
    logs = topology.folder("logs")

    def gunicorn(app: str, port: int, name: str, workers: int) -> list[str]:
        return [
            *(PYTHON, "-m", "gunicorn", app),
            *("--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--name", name),
            # Behind nginx: trust its X-Forwarded-* from loopback only.
            *("--forwarded-allow-ips", "127.0.0.1", "--timeout", "30"),
            *("--graceful-timeout", "20", "--access-logfile", "-"),
        ]

    def celery(app: str, node: str, *options: str) -> list[str]:
        return [PYTHON, "-m", "celery", "-A", app, "worker", "-n", f"{node}@%h", *options]

    parts = [
        Component(
            name="provider and carrier sandbox",
            argv=[PYTHON, "-m", "tessera_sandbox", "serve", "--port", str(topology.sandbox_port)],
            ready_url=f"http://127.0.0.1:{topology.sandbox_port}/readyz",
            env=envs["sandbox"],
            log_path=logs / "sandbox.log",
        ),
        Component(
            name="webhook functions",
            argv=[PYTHON, "-m", "tessera_functions.serve"],
            ready_url=f"http://127.0.0.1:{topology.functions_port}/readyz",
            env=envs["functions"],
            log_path=logs / "functions.log",
        ),
        Component(
            name="processing API",
            argv=gunicorn(
                "processing.wsgi:application", topology.processing_port, "tessera-processing", 2
            ),
            ready_url=f"http://127.0.0.1:{topology.processing_port}/readyz",
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
                    f"tessera-monolith-{letter.lower()}",
                    topology.monolith_workers,
                ),
                ready_url=f"http://127.0.0.1:{port}/readyz",
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
