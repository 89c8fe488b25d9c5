"""Tessera's compose stack on a real container engine: `make distributed` and the container tests.

One description of the topology, `docker-compose.yml`, run by Docker Compose v2. Where no image
registry is reachable (only Debian's packages, PyPI and npm, as on Tessera's CI machines), the
official images it names are swapped for stand-ins built from Debian's packages by
`infra/compose/debian-images.yml`; everything else is the file users run. The steps:

1. the engine: `scripts/ensure_container_engine.sh` installs Debian's docker.io and Compose v2
   when missing and starts dockerd when it is not running;
2. the stand-ins: a Debian root file system made by debootstrap and imported once as
   `tessera/debian:bookworm`, then `infra/docker/debian/images.yml`'s builds (cached layers);
3. the secrets compose requires, generated into a private env file (never `.env`);
4. `docker compose up --build --wait`: Tessera's images built, every service healthy by its own
   health check, the migrate jobs completed; then demo data and a staff login;
5. `docker compose down --volumes --remove-orphans` when it is over.

    .venv/bin/python scripts/container_stack.py up      # make distributed: up, URLs, Ctrl-C stops
    .venv/bin/python scripts/container_stack.py images  # only the engine and the stand-ins
    .venv/bin/python scripts/container_stack.py down    # stop the stack and delete its volumes
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILES = (REPO_ROOT / "docker-compose.yml", REPO_ROOT / "infra/compose/debian-images.yml")
STAND_INS_FILE = REPO_ROOT / "infra/docker/debian/images.yml"
ENGINE_SCRIPT = REPO_ROOT / "scripts/ensure_container_engine.sh"
DEBIAN_BASE_IMAGE = "tessera/debian:bookworm"
# The suite the stand-ins are made of: Python 3.11, as requirements.lock is resolved for.
DEBIAN_SUITE = "bookworm"
# Files a container never needs: package archives and lists, documentation.
ROOTFS_PRUNED = ("var/cache/apt/archives", "var/lib/apt/lists", "usr/share/doc", "usr/share/man")
# Cold: every image built and each service's health check passed; about 2 minutes when idle.
UP_TIMEOUT_SECONDS = 900
STAFF_USERNAME = "staff"
# Where docker-compose.yml publishes the stack (on 127.0.0.1 only).
PUBLIC_URL = "http://localhost:8080"
HEADLESS_URL = "http://localhost:8084"
PROCESSING_URL = "http://localhost:8001"
FUNCTIONS_URL = "http://localhost:8002"
SANDBOX_URL = "http://localhost:8003"
PUBLISHED_PORTS = (8001, 8002, 8003, 8080, 8084)
# make distributed's secrets: kept between runs, as its data volumes are.
DISTRIBUTED_ENV_FILE = REPO_ROOT / "var" / "distributed" / "compose.env"
DEMO_PRODUCTS = 60


class StackError(RuntimeError):
    """A step that could not be done, with what to look at."""


def step(message: str) -> None:
    print(f"==> {message}", flush=True)


def tool(name: str) -> str:
    """A program's full path, or the reason it cannot be used."""
    path = shutil.which(name)
    if path is None:
        raise StackError(f"{name} is not installed ({ENGINE_SCRIPT.name} installs it)")
    return path


def run(argv: Sequence[str], **options: Any) -> subprocess.CompletedProcess[str]:
    """Run a command from the repository root; its own output goes to the terminal. Raises
    CalledProcessError when it fails, unless `check=False`."""
    options.setdefault("check", True)
    return subprocess.run([tool(argv[0]), *argv[1:]], cwd=REPO_ROOT, text=True, **options)


def output(argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
    """Run a command from the repository root for its output; its exit code is the caller's."""
    return run(argv, capture_output=True, check=False)


def ports_taken(ports: Iterable[int]) -> list[int]:
    """The ports something on this machine already answers on (127.0.0.1)."""
    taken = []
    for port in ports:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                taken.append(port)
        except OSError:
            pass
    return taken


def engine_ensure() -> None:
    """Docker's engine and Compose v2, installed from Debian's packages and started if needed."""
    try:
        run(["bash", str(ENGINE_SCRIPT)])
    except subprocess.CalledProcessError as error:
        message = f"no container engine: {ENGINE_SCRIPT.name} exited {error.returncode}"
        raise StackError(message) from error


def image_exists(name: str) -> bool:
    return output(["docker", "image", "inspect", name]).returncode == 0


def debian_mirror() -> str:
    """The Debian mirror this machine's apt uses: the stand-ins install from the same one."""
    candidates: list[str] = []
    for sources in sorted(Path("/etc/apt/sources.list.d").glob("*.sources")):
        for line in sources.read_text().splitlines():
            if line.startswith("URIs:"):
                candidates.extend(line.split()[1:])
    legacy = Path("/etc/apt/sources.list")
    if legacy.exists():
        for line in legacy.read_text().splitlines():
            words = line.split()
            if len(words) > 2 and words[0] == "deb":
                candidates.append(words[1])
    for uri in candidates:
        if "security" not in uri:
            return uri
    raise StackError("no Debian mirror in /etc/apt/sources.list(.d)")


def debian_base_ensure() -> None:
    """`tessera/debian:bookworm`: a minimal root file system by debootstrap, imported once."""
    if image_exists(DEBIAN_BASE_IMAGE):
        return
    step(f"Making {DEBIAN_BASE_IMAGE} with debootstrap (once; about a minute)")
    with tempfile.TemporaryDirectory(prefix="tessera-rootfs-") as scratch:
        rootfs = Path(scratch) / "rootfs"
        run(
            [
                *("debootstrap", "--variant=minbase", "--include=ca-certificates"),
                *(DEBIAN_SUITE, str(rootfs), debian_mirror()),
            ],
            stdout=subprocess.DEVNULL,
        )
        for pruned in ROOTFS_PRUNED:
            shutil.rmtree(rootfs / pruned, ignore_errors=True)
            (rootfs / pruned).mkdir(parents=True, exist_ok=True)
        argv = [tool("tar"), "-C", str(rootfs), "-c", "."]
        with subprocess.Popen(argv, stdout=subprocess.PIPE) as tar:
            run(
                ["docker", "import", "-", DEBIAN_BASE_IMAGE],
                stdin=tar.stdout,
                stdout=subprocess.DEVNULL,
            )
        if tar.returncode != 0:
            raise StackError(f"tar of the debootstrap root file system exited {tar.returncode}")


def stand_ins_build() -> None:
    """The images `infra/compose/debian-images.yml` names (cached after the first build)."""
    debian_base_ensure()
    step("Building the stand-ins from Debian's packages: python, postgres, rabbitmq, redis, nginx")
    run(["docker-compose", "-f", str(STAND_INS_FILE), "build", "--quiet"])


def secrets_generate() -> dict[str, str]:
    """Every secret docker-compose.yml requires (`${NAME:?…}`), fresh and random."""
    from tessera_contract.signing import standard_webhook_secret_generate

    return {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "PROCESSING_DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        # Hex: these go into URLs unescaped.
        "POSTGRES_PASSWORD": secrets.token_hex(24),
        "MONOLITH_DATABASE_PASSWORD": secrets.token_hex(24),
        "PROCESSING_DATABASE_PASSWORD": secrets.token_hex(24),
        "RABBITMQ_PASSWORD": secrets.token_hex(24),
        "SERVICE_TOKEN_KEYS": f"k1:{secrets.token_urlsafe(32)}",
        "JOB_RESULT_CALLBACK_SECRETS": standard_webhook_secret_generate(),
        "PAYMENT_WEBHOOK_SECRETS": standard_webhook_secret_generate(),
        "CARRIER_WEBHOOK_SECRETS": standard_webhook_secret_generate(),
        "TESSERA_METRICS_TOKEN": secrets.token_urlsafe(32),
        # The staff login the stack is given (not a compose variable).
        "TESSERA_STAFF_PASSWORD": secrets.token_urlsafe(12),
    }


def env_file_read(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        name, separator, value = line.partition("=")
        if separator and not name.startswith("#"):
            values[name.strip()] = value.strip()
    return values


def env_file_ensure(path: Path, *, fresh: bool) -> dict[str, str]:
    """The stack's secrets in `path` (mode 0600): kept between runs unless `fresh`, since the
    database volume keeps the passwords it was first started with; a secret the file lacks
    (one a newer docker-compose.yml asks for) is generated and added."""
    kept = env_file_read(path) if path.exists() and not fresh else {}
    values = {**secrets_generate(), **kept}
    if values != kept:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.chmod(0o600)
        path.write_text(
            "# Secrets for Tessera's compose stack, generated by scripts/container_stack.py.\n"
            + "".join(f"{name}={value}\n" for name, value in values.items())
        )
    return values


@dataclass(frozen=True)
class Stack:
    """One compose project of docker-compose.yml with the Debian stand-ins."""

    project: str
    env_file: Path

    def compose(self, *args: str) -> list[str]:
        files = [word for path in COMPOSE_FILES for word in ("-f", str(path))]
        return [
            *("docker-compose", "--project-name", self.project, "--project-directory"),
            *(str(REPO_ROOT), *files, "--env-file", str(self.env_file), *args),
        ]

    def up(self) -> float:
        """Build Tessera's images and start every service; returns the seconds until all were
        healthy. On failure, says which services were not and shows their last log lines."""
        step(f"Building Tessera's images and starting the stack ({self.project}), until healthy")
        started = time.monotonic()
        try:
            run(
                self.compose("up", "--build", "--wait", "--quiet-pull", "--detach"),
                timeout=UP_TIMEOUT_SECONDS,
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
            raise StackError(f"the stack did not become healthy:\n{self.diagnosis()}") from error
        return time.monotonic() - started

    def diagnosis(self) -> str:
        states = output(self.compose("ps", "--all", "--format", "{{.Service}}: {{.Status}}")).stdout
        unhealthy = [
            line.split(":")[0]
            for line in states.splitlines()
            if "healthy)" not in line or "unhealthy" in line
        ]
        logs = output(self.compose("logs", "--no-color", "--tail=25", *unhealthy)).stdout
        return f"{states}\n{logs}"

    def exec(self, service: str, *argv: str, env: dict[str, str] | None = None) -> str:
        """A command in a running service's container; returns its output."""
        options = [f"--env={name}={value}" for name, value in (env or {}).items()]
        done = output(self.compose("exec", "-T", *options, service, *argv))
        if done.returncode != 0:
            command = " ".join(argv)
            raise StackError(f"{command} in {service} exited {done.returncode}:\n{done.stderr}")
        return done.stdout

    def demo_data_load(self, staff_password: str) -> None:
        """The demo catalog, and a staff login (production settings refuse the public demo ones)."""
        step(f"Loading demo data ({DEMO_PRODUCTS} products) and the staff login")
        products = str(DEMO_PRODUCTS)
        self.exec("monolith-a", "django-admin", "seed_demo", "--skip-users", "--products", products)
        self.exec(
            *("monolith-a", "django-admin", "createsuperuser", "--no-input"),
            *("--username", STAFF_USERNAME, "--email", "staff@example.com"),
            env={"DJANGO_SUPERUSER_PASSWORD": staff_password},
        )

    def container_id(self, service: str) -> str:
        found = output(self.compose("ps", "--all", "--quiet", service)).stdout.strip()
        if not found:
            raise StackError(f"{service} has no container")
        return found

    def inspect(self, service: str, template: str) -> str:
        """A field of the service's container, as `docker inspect --format` renders it."""
        argv = ["docker", "inspect", "--format", template, self.container_id(service)]
        return output(argv).stdout.strip()

    def container_state(self, service: str) -> str:
        """Docker's word for the container's state: running, exited, restarting…"""
        return self.inspect(service, "{{.State.Status}}")

    def address(self, service: str) -> str:
        """The container's address on the stack's network (nginx's upstream, for a replica)."""
        return self.inspect(service, "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}")

    def addresses(self) -> set[str]:
        """Every container's address on the stack's network."""
        services = output(self.compose("ps", "--services")).stdout.split()
        return {self.address(service) for service in services}

    def kill(self, service: str) -> None:
        """SIGKILL the service's container, as a crashed host or an out-of-memory kill would."""
        run(self.compose("kill", "--signal", "SIGKILL", service), capture_output=True)

    def logs(self, service: str) -> str:
        return output(self.compose("logs", "--no-color", "--no-log-prefix", service)).stdout

    def down(self) -> None:
        """Stop and remove every container, network and volume of the project."""
        step(f"Stopping the stack ({self.project}) and removing its containers and volumes")
        run(self.compose("down", "--volumes", "--remove-orphans", "--timeout", "20"))

    def leftovers(self) -> list[str]:
        """Containers, networks and volumes still labelled with this project."""
        label = f"label=com.docker.compose.project={self.project}"
        found: list[str] = []
        for kind in ("container", "network", "volume"):
            listing = ["docker", kind, "ls", "--quiet", "--filter", label]
            if kind == "container":
                listing.insert(3, "--all")
            found += [f"{kind} {name}" for name in output(listing).stdout.split()]
        return found


@dataclass(frozen=True)
class RunningStack:
    """A stack that is up, with the staff login it was given."""

    stack: Stack
    staff_password: str

    @property
    def staff(self) -> tuple[str, str]:
        return STAFF_USERNAME, self.staff_password

    def urls_print(self) -> None:
        print(
            f"\nTessera's distributed topology is up ({self.stack.project}: docker compose ps):\n"
            f"  Shop, admin, API (nginx, 2 replicas)  {PUBLIC_URL}/\n"
            f"  Headless storefront                   {HEADLESS_URL}/\n"
            f"  Processing API                        {PROCESSING_URL}/healthz\n"
            f"  Webhook functions                     {FUNCTIONS_URL}/webhooks/payments\n"
            f"  Sandbox provider and carrier          {SANDBOX_URL}/\n"
            f"  Staff login                           {STAFF_USERNAME} / {self.staff_password}\n"
            "Ctrl-C stops every container.\n",
            flush=True,
        )


def distributed_run(*, fresh: bool) -> int:
    """`make distributed`: the stack up until Ctrl-C, then down. Its data volumes and secrets
    are kept for the next run unless `fresh` (or there is no previous run to keep)."""
    stack = Stack(project="tessera", env_file=DISTRIBUTED_ENV_FILE)
    # Nothing to keep without both the secrets and the database they opened (a `down` with
    # --volumes, or `docker compose down -v`, leaves the secrets file behind).
    database_volume = f"{stack.project}_postgres-data"
    fresh = fresh or not stack.env_file.exists()
    engine_ensure()
    fresh = fresh or output(["docker", "volume", "inspect", database_volume]).returncode != 0
    stand_ins_build()
    values = env_file_ensure(stack.env_file, fresh=fresh)
    if fresh:
        run(stack.compose("down", "--volumes", "--remove-orphans"))
    stopping = False

    def stop_requested(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop_requested)
    signal.signal(signal.SIGINT, stop_requested)
    try:
        seconds = stack.up()
        step(f"Every service healthy in {seconds:.0f} s")
        if fresh:
            stack.demo_data_load(values["TESSERA_STAFF_PASSWORD"])
        RunningStack(stack, values["TESSERA_STAFF_PASSWORD"]).urls_print()
        while not stopping:
            signal.pause()
    finally:
        # A second Ctrl-C must not interrupt the stop half-way.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        step("Stopping every container (data volumes kept; `--fresh` starts anew)")
        run(stack.compose("down", "--remove-orphans", "--timeout", "20"))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="make distributed: the stack up until Ctrl-C")
    up.add_argument("--fresh", action="store_true", help="new secrets and empty volumes")
    commands.add_parser("images", help="the engine and the stand-in images only")
    commands.add_parser("down", help="stop make distributed's stack and delete its volumes")
    arguments = parser.parse_args(argv)
    try:
        if arguments.command == "up":
            return distributed_run(fresh=arguments.fresh)
        engine_ensure()
        if arguments.command == "images":
            stand_ins_build()
        else:
            Stack("tessera", DISTRIBUTED_ENV_FILE).down()
    except StackError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    os.umask(0o022)
    sys.exit(main())
