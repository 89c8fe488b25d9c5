"""docker-compose.yml, its env files and infra/docker/ are checked against the code they run.

No container engine runs where the suite runs, so the compose file is never started here.
Instead every claim it makes is checked against what it points at: the Compose Specification
schema, the commands and modules it starts, the ports the design fixes, the environment
variables the settings read (and require), the health checks its `depends_on` waits for, the
Dockerfile stages it builds, the volumes the code writes to, the nginx template it renders.
Each check returns its findings as sentences, and a test fails listing all of them. The tests
at the end alter copies to show that each check catches what it is for.

`TESSERA_COMPOSE_FILE` points the suite at another compose file (an altered copy, say); paths
inside it are resolved from the repository root, Compose's project directory.
`TESSERA_COMPOSE_SPEC` names the shared schema the committed copy must equal.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import re
import shlex
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
import yaml
from tessera_contract import messaging

from infra.tests.deployment_code import (
    COMPONENTS,
    HEALTH_PATHS,
    IMAGE_VARIABLES,
    REPO_ROOT,
    SECRET_NAME,
    URL_PASSWORD,
    Component,
    Dockerfile,
    argv_of,
    assert_none,
    env_file_parse,
    one_command_problems,
    option_value,
    required_variables,
    settings_files,
    shell_commands,
    unread_variable_problems,
    unset_required_problems,
    worker_check_problems,
)
from scripts.headless_storefront import content_security_policy

COMPOSE_FILE = Path(os.environ.get("TESSERA_COMPOSE_FILE") or REPO_ROOT / "docker-compose.yml")
DOCKERFILE = REPO_ROOT / "infra" / "docker" / "Dockerfile"
# The schema is committed (infra/compose/README.md says where it comes from), so a fresh clone
# validates without anything outside the repository; when the shared copy is there too, the
# two must be the same file.
VENDORED_SCHEMA = REPO_ROOT / "infra" / "compose" / "compose-spec.json"
SHARED_SCHEMA = Path(os.environ.get("TESSERA_COMPOSE_SPEC") or "/work/shared/compose-spec.json")
ENV_EXAMPLE = REPO_ROOT / ".env.example"

# shared/DESIGN.md's fixed ports, as published on the host. The replicas' 8000 stays inside
# the network (two replicas cannot share one host port; nginx is their door); 16686 is
# Jaeger's UI, the one port tracing adds.
PUBLISHED_PORTS: dict[str, set[int]] = {
    "nginx": {8080, 8084},
    "processing": {8001},
    "functions": {8002},
    "sandbox": {8003},
    "jaeger": {16686},
}
FIXED_PORTS = {8000, 8001, 8002, 8003, 8080}

REQUIRED_INTERPOLATION = re.compile(r"^\$\{(\w+):\?[^}]+\}$")
# A file or folder path the project directory must hold (bind mounts, env files).
BIND_SOURCE = re.compile(r"^\.{0,2}/")


# --- Reading the files ------------------------------------------------------------------------


def compose_load(path: Path = COMPOSE_FILE) -> dict[str, Any]:
    """The compose document with YAML anchors and merge keys resolved, as Compose reads it."""
    document = yaml.safe_load(path.read_text())
    assert isinstance(document, dict), f"{path} is not a YAML mapping"
    return document


def service_env_files(service: Mapping[str, Any]) -> list[str]:
    entries = service.get("env_file") or []
    if isinstance(entries, str):
        entries = [entries]
    return [entry["path"] if isinstance(entry, dict) else entry for entry in entries]


def service_environment_own(service: Mapping[str, Any]) -> dict[str, str]:
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        pairs = (item.partition("=") for item in environment)
        return {name: value for name, _, value in pairs}
    return {name: "" if value is None else str(value) for name, value in environment.items()}


@dataclass
class Project:
    """Everything the checks read: the compose document and the files it names."""

    compose: dict[str, Any]
    dockerfiles: dict[str, Dockerfile] = field(default_factory=dict)
    env_files: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def load(cls, compose: dict[str, Any] | None = None) -> Project:
        project = cls(compose=compose_load() if compose is None else compose)
        for service in project.services().values():
            build = service.get("build")
            if isinstance(build, dict) and build.get("dockerfile"):
                path = REPO_ROOT / build.get("context", ".") / build["dockerfile"]
                if path.is_file():
                    project.dockerfiles[build["dockerfile"]] = Dockerfile.parse(path)
            for name in service_env_files(service):
                if (REPO_ROOT / name).is_file():
                    project.env_files[name] = env_file_parse((REPO_ROOT / name).read_text())
        return project

    def services(self) -> dict[str, dict[str, Any]]:
        return self.compose.get("services") or {}

    def target(self, service: Mapping[str, Any]) -> tuple[Dockerfile, str] | None:
        build = service.get("build")
        if not isinstance(build, dict):
            return None
        dockerfile = self.dockerfiles.get(build.get("dockerfile", ""))
        target = build.get("target")
        if dockerfile is None or target not in dockerfile.stages:
            return None
        return dockerfile, target

    def component(self, service: Mapping[str, Any]) -> tuple[str, Component] | None:
        built = self.target(service)
        if built is None or built[1] not in COMPONENTS:
            return None
        return built[1], COMPONENTS[built[1]]

    def environment(self, service: Mapping[str, Any]) -> dict[str, str]:
        """What the container sees: image ENV, then env files, then `environment`."""
        values: dict[str, str] = {}
        built = self.target(service)
        if built is not None:
            values.update(built[0].environment(built[1]))
        for name in service_env_files(service):
            values.update(self.env_files.get(name, {}))
        values.update(service_environment_own(service))
        return values

    def command(self, service: Mapping[str, Any]) -> list[str]:
        """The argv the container runs: entrypoint, then command (the image's when not set)."""
        built = self.target(service)
        entrypoint = argv_of(service.get("entrypoint"))
        command = argv_of(service.get("command"))
        if built is not None:
            entrypoint = entrypoint or built[0].exec_form(built[1], "ENTRYPOINT")
            command = command or built[0].exec_form(built[1], "CMD")
        return entrypoint + command

    def is_job(self, service: Mapping[str, Any]) -> bool:
        """A one-shot job (migrate, collectstatic): runs to completion, is never restarted."""
        return str(service.get("restart", "no")) == "no"


# --- The checks -------------------------------------------------------------------------------


def schema_problems(compose: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    """The schema's objections, each at the deepest path that explains it."""
    problems = []
    validator = jsonschema.Draft7Validator(schema)
    for error in sorted(validator.iter_errors(compose), key=lambda e: list(e.absolute_path)):
        # "is not valid under any of the given schemas" says little: name the closest branch's
        # own complaint instead.
        reason = jsonschema.exceptions.best_match(error.context) if error.context else error
        where = "/".join(str(part) for part in reason.absolute_path) or "(top)"
        problems.append(f"{where}: {reason.message}")
    return problems


def environment_read_problems(project: Project) -> list[str]:
    """Every variable a service is given is read by the program it runs."""
    problems: list[str] = []
    for name, service in project.services().items():
        environment = project.environment(service)
        component = project.component(service)
        if component is not None:
            problems += unread_variable_problems(name, component[0], environment)
            continue
        image = str(service.get("image", "")).split(":")[0].split("/")[-1]
        known = IMAGE_VARIABLES.get(image)
        if known is None:
            continue  # built from our Dockerfile for a program of its own (collector, Jaeger)
        mounted = "\n".join(
            path.read_text() if path.is_file() else ""
            for path in (p for source in bind_sources(service) for p in files_under(source))
        )
        for variable in sorted(environment):
            if variable in known or re.search(rf"\$\{{?{variable}\b", mounted):
                continue
            problems.append(
                f"{name}: {variable} is set, but neither the {image} image nor a file mounted "
                "into it reads it"
            )
    return problems


def bind_sources(service: Mapping[str, Any]) -> list[Path]:
    return [
        REPO_ROOT / source
        for source, _target, _mode in volume_mounts(service)
        if BIND_SOURCE.match(source)
    ]


def files_under(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]


def volume_mounts(service: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    mounts: list[tuple[str, str, str]] = []
    for entry in service.get("volumes") or []:
        if isinstance(entry, dict):
            mode = "ro" if entry.get("read_only") else "rw"
            mounts.append((str(entry.get("source", "")), str(entry["target"]), mode))
        else:
            parts = str(entry).split(":")
            mounts.append((parts[0], parts[1], parts[2] if len(parts) > 2 else "rw"))
    return mounts


def required_environment_problems(project: Project) -> list[str]:
    """Every variable the code requires is set (non-empty) where that code runs."""
    problems: list[str] = []
    for name, service in project.services().items():
        component = project.component(service)
        if component is None:
            continue
        problems += unset_required_problems(name, component[0], project.environment(service))
    return problems


def command_problems(project: Project) -> list[str]:
    """Each service starts a module, app or command that exists, on the port it should."""
    problems: list[str] = []
    for name, service in project.services().items():
        component = project.component(service)
        argv = project.command(service)
        if not argv:
            built = project.target(service)
            if built is not None and not built[0].root_image(built[1]).startswith(SERVER_IMAGES):
                problems.append(f"{name}: starts no command")
            continue
        if component is None:
            built = project.target(service)
            if built is not None:
                problems.extend(binary_problems(name, argv, *built))
            continue
        _target, spec = component
        environment = project.environment(service)
        for command in shell_commands(argv):
            problems.extend(
                f"{name}: {problem}" for problem in one_command_problems(command, spec, environment)
            )
    return problems


def binary_problems(name: str, argv: list[str], dockerfile: Dockerfile, target: str) -> list[str]:
    copied = {Path(rest.split()[-1]).name for rest in dockerfile.instructions(target, "COPY")}
    if argv[0] not in copied:
        return [f"{name}: runs {argv[0]}, which the {target} stage does not copy in"]
    return []


def queue_coverage_problems(project: Project) -> list[str]:
    """Every processing queue tessera_contract.messaging defines has a worker consuming it."""
    declared = set(messaging.PROCESSING_QUEUES)
    consumed: set[str] = set()
    for service in project.services().values():
        argv = project.command(service)
        if argv[:1] == ["celery"] and option_value(argv, "-A", "--app") == "processing":
            consumed.update((option_value(argv, "-Q", "--queues") or "").split(","))
    return [f"no processing worker consumes {queue}" for queue in sorted(declared - consumed)]


def port_problems(project: Project) -> list[str]:
    problems: list[str] = []
    for name, service in project.services().items():
        allowed = PUBLISHED_PORTS.get(name, set())
        for entry in service.get("ports") or []:
            if isinstance(entry, dict):
                published, container = int(entry.get("published", 0)), int(entry["target"])
            else:
                parts = str(entry).split(":")
                container = int(parts[-1].split("/")[0])
                published = int(parts[-2]) if len(parts) >= 2 else container
            if published != container:
                problems.append(f"{name}: publishes {container} as {published}; keep them equal")
            if published not in allowed:
                expected = sorted(allowed) or "nothing"
                problems.append(
                    f"{name}: publishes {published}; it should publish {expected} "
                    f"(fixed ports: {sorted(FIXED_PORTS)}, Jaeger's UI 16686)"
                )
        component = project.component(service)
        if component is not None and allowed and component[1].port not in allowed:
            problems.append(f"{name}: serves {component[1].port} but publishes {sorted(allowed)}")
    return problems


def healthcheck_problems(project: Project) -> list[str]:
    problems: list[str] = []
    services = project.services()
    for name, service in services.items():
        check = service.get("healthcheck")
        if project.is_job(service):
            continue
        if not check or check.get("disable") or not check.get("test"):
            problems.append(f"{name}: has no health check")
            continue
        test = argv_of(check["test"])
        words = test[1:] if test[0] in {"CMD", "CMD-SHELL"} else test
        if test[0] == "CMD-SHELL":
            words = shlex.split(" ".join(words))
        if words and words[0] == "tessera-healthcheck" and project.target(service) is None:
            problems.append(f"{name}: runs tessera-healthcheck, which only Tessera's images carry")
        listen = project.environment(service).get("TESSERA_NGINX_PORT")
        if listen is not None:  # nginx: its own /healthz, on the port the template listens on
            nginx_urls = [urlsplit(w) for w in words if w.startswith("http")]
            if not nginx_urls or nginx_urls[0].path != "/healthz":
                problems.append(f"{name}: its health check should request nginx's own /healthz")
            elif str(nginx_urls[0].port) != listen.rpartition(":")[2]:
                problems.append(f"{name}: checks port {nginx_urls[0].port}, listens on {listen}")
        component = project.component(service)
        if component is None:
            continue
        argv = project.command(service)
        if argv[:1] == ["celery"]:
            problems += worker_check_problems(name, argv, words)
            continue
        urls = [w for w in words if w.startswith("http")]
        if not urls:
            problems.append(f"{name}: its health check requests no /healthz or /readyz")
            continue
        url = urlsplit(urls[0])
        if url.path not in HEALTH_PATHS:
            problems.append(f"{name}: checks {url.path}, not /healthz or /readyz")
        if url.port != component[1].port:
            problems.append(f"{name}: checks port {url.port}, but serves {component[1].port}")
    return problems


def depends_on_problems(project: Project) -> list[str]:
    problems: list[str] = []
    services = project.services()
    awaited_jobs: set[str] = set()
    for name, service in services.items():
        depends_on = service.get("depends_on") or {}
        if isinstance(depends_on, list):
            problems.append(f"{name}: depends_on lists names; give each a condition")
            continue
        for target, options in depends_on.items():
            condition = (options or {}).get("condition", "service_started")
            if target not in services:
                problems.append(f"{name}: depends on {target}, which is not a service")
                continue
            if condition == "service_healthy":
                if not services[target].get("healthcheck"):
                    problems.append(
                        f"{name}: waits for {target} to be healthy, but {target} has no health "
                        "check"
                    )
            elif condition == "service_completed_successfully":
                awaited_jobs.add(target)
                if not project.is_job(services[target]):
                    problems.append(f"{name}: waits for {target} to complete, but it restarts")
            else:
                problems.append(f"{name}: waits only for {target} to start; wait for its health")
    for name, service in services.items():
        if project.is_job(service) and name not in awaited_jobs:
            problems.append(f"{name}: a one-shot job nothing waits for")
    return problems


# Where each path variable's folder must be: the named volume that folder is shared through.
PATH_VOLUMES = {
    "DJANGO_MEDIA_ROOT": "media",
    "PROCESSING_MEDIA_ROOT": "media",
    "TESSERA_MEDIA_ROOT": "media",
    "DJANGO_STATIC_ROOT": "static",
    "TESSERA_STATIC_ROOT": "static",
}


def volume_problems(project: Project) -> list[str]:
    problems: list[str] = []
    declared = set(project.compose.get("volumes") or {})
    media_users: set[str] = set()
    for name, service in project.services().items():
        mounts = volume_mounts(service)
        for source, _target, _mode in mounts:
            if BIND_SOURCE.match(source):
                if not (REPO_ROOT / source).exists():
                    problems.append(f"{name}: mounts {source}, which is not in the repository")
            elif source and source not in declared:
                problems.append(f"{name}: mounts volume {source}, which is not declared")
        targets = {source: target for source, target, _mode in mounts}
        environment = project.environment(service)
        for variable, volume in PATH_VOLUMES.items():
            path = environment.get(variable)
            if path is None or (volume == "static" and volume not in targets):
                continue  # a service that never reads collected static files needs no mount
            if targets.get(volume) != path:
                problems.append(
                    f"{name}: {variable}={path}, but the {volume} volume is mounted at "
                    f"{targets.get(volume, 'no path')}"
                )
        component = project.component(service)
        if component is not None and "media" in targets:
            media_users.add(component[0])
    if not {"monolith", "processing"} <= media_users:
        problems.append(
            "the media volume must be shared by the monolith (uploads) and the processing "
            f"service (sources and results); mounted by: {sorted(media_users) or 'nobody'}"
        )
    for name, service in project.services().items():
        argv = " ".join(project.command(service))
        modes = {source: mode for source, _target, mode in volume_mounts(service)}
        if "collectstatic" in argv and modes.get("static") != "rw":
            problems.append(f"{name}: runs collectstatic but cannot write the static volume")
    return problems


def secret_problems(project: Project) -> list[str]:
    """Committed files hold no secret: secrets come from .env, and are required there."""
    problems: list[str] = []
    for path, values in project.env_files.items():
        for variable, value in values.items():
            if SECRET_NAME.search(variable) and value:
                problems.append(f"{path}: {variable} has a value; secrets belong in .env")
            if URL_PASSWORD.search(value):
                problems.append(f"{path}: {variable} carries a password in its URL")
    for name, service in project.services().items():
        for variable, value in service_environment_own(service).items():
            if SECRET_NAME.search(variable) and not REQUIRED_INTERPOLATION.match(value):
                problems.append(
                    f"{name}: {variable} must come from .env as ${{NAME:?message}}, not {value!r}"
                )
            for password in URL_PASSWORD.findall(value):
                if not REQUIRED_INTERPOLATION.match(password):
                    problems.append(f"{name}: {variable} has a password that is not from .env")
    return problems


def interpolated_variables(document: Any) -> set[str]:
    """The ${NAME…} variables Compose substitutes anywhere in the document (not in comments)."""
    if isinstance(document, dict):
        return set().union(*(interpolated_variables(v) for v in document.values()))
    if isinstance(document, list):
        return set().union(*(interpolated_variables(v) for v in document))
    if isinstance(document, str):
        return set(re.findall(r"(?<!\$)\$\{(\w+)", document))
    return set()


def nginx_problems(project: Project) -> list[str]:
    services = project.services()
    nginx = services.get("nginx")
    if nginx is None:
        return ["there is no nginx service"]
    templates = [
        (REPO_ROOT / source, target)
        for source, target, _mode in volume_mounts(nginx)
        if target.startswith("/etc/nginx/templates/") and target.endswith(".template")
    ]
    if not templates:
        return [
            "nginx: infra/nginx/templates/tessera.conf.template is not mounted into "
            "/etc/nginx/templates/"
        ]
    problems: list[str] = []
    environment = project.environment(nginx)
    used = set().union(*(re.findall(r"\$\{(\w+)\}", path.read_text()) for path, _ in templates))
    for variable in sorted(used - set(environment)):
        problems.append(f"nginx: the template uses ${{{variable}}}, which is not set")
    for variable in sorted(v for v in environment if v.startswith("TESSERA_") and v not in used):
        problems.append(f"nginx: {variable} is set, but the template does not use it")
    api_origin = re.search(r"ARG HEADLESS_API_ORIGIN=(\S+)", DOCKERFILE.read_text())
    expected_policy = content_security_policy(api_origin[1] if api_origin else "")
    if environment.get("TESSERA_HEADLESS_CSP", expected_policy) != expected_policy:
        problems.append(
            "nginx: TESSERA_HEADLESS_CSP is not scripts/headless_storefront.py's policy for "
            f"the build's API origin: {expected_policy}"
        )
    for variable in ("TESSERA_MONOLITH_UPSTREAM_A", "TESSERA_MONOLITH_UPSTREAM_B"):
        host, _, port = environment.get(variable, "").partition(":")
        upstream = services.get(host)
        component = project.component(upstream) if upstream else None
        if component is None or component[0] != "monolith" or port != str(component[1].port):
            problems.append(f"nginx: {variable}={host}:{port} is not a monolith replica's port")
    return problems


def telemetry_problems(project: Project) -> list[str]:
    """Every traced component exports to the collector's OTLP/HTTP port; it exports on to Jaeger."""
    problems: list[str] = []
    services = project.services()
    receivers: set[tuple[str, int]] = set()  # (collector service, OTLP/HTTP port)
    for name, service in services.items():
        for source, target, _mode in volume_mounts(service):
            if target != "/etc/otelcol/config.yaml":
                continue
            config = yaml.safe_load((REPO_ROOT / source).read_text())
            http = config["receivers"]["otlp"]["protocols"].get("http") or {}
            receivers.add((name, int(str(http.get("endpoint", ":4318")).rsplit(":", 1)[1])))
            for exporter, options in config.get("exporters", {}).items():
                endpoint = str((options or {}).get("endpoint", ""))
                host = endpoint.split("//")[-1].split(":")[0]
                if exporter.startswith("otlp") and host not in services:
                    problems.append(f"{name}: exports to {endpoint}, which is not a service")
    if not receivers:
        problems.append("no service runs the collector with a config at /etc/otelcol/config.yaml")
    for name, service in services.items():
        component = project.component(service)
        # The sandbox stands in for outside parties: it is not part of the traced platform.
        if component is None or component[0] == "sandbox" or project.is_job(service):
            continue
        environment = project.environment(service)
        if not environment.get("OTEL_SERVICE_NAME"):
            problems.append(f"{name}: sets no OTEL_SERVICE_NAME")
        otlp = urlsplit(environment.get("OTEL_EXPORTER_OTLP_ENDPOINT", ""))
        if (otlp.hostname, otlp.port) not in receivers:
            problems.append(
                f"{name}: OTEL_EXPORTER_OTLP_ENDPOINT={otlp.geturl() or 'unset'} is not the "
                f"collector's OTLP/HTTP receiver ({sorted(receivers)})"
            )
    return problems


def build_problems(project: Project) -> list[str]:
    problems: list[str] = []
    for name, service in project.services().items():
        build = service.get("build")
        if build is None:
            continue
        if not isinstance(build, dict) or not build.get("dockerfile") or not build.get("target"):
            problems.append(f"{name}: build must name a dockerfile and a target")
            continue
        path = REPO_ROOT / build.get("context", ".") / build["dockerfile"]
        if not path.is_file():
            problems.append(f"{name}: builds {build['dockerfile']}, which does not exist")
        elif project.target(service) is None:
            problems.append(f"{name}: builds target {build['target']}, which {path.name} lacks")
    return problems


PYTHON_BASE = re.compile(r"^python:3\.1[12]-slim(-\w+)?$")
# A target built straight on a server's official image runs that image's own command, as its
# own user scheme (nginx: the master as root to bind and read its configuration, the workers
# unprivileged), with Tessera's files added.
SERVER_IMAGES = ("nginx:",)


def dockerfile_problems(dockerfile: Dockerfile, targets: Iterable[str]) -> list[str]:
    """Multi-stage, slim, non-root, locked with hashes, workspace packages without deps."""
    problems: list[str] = []
    label = dockerfile.path.name
    runs = [
        rest
        for stage in dockerfile.stages.values()
        for kw, rest in stage.instructions
        if kw == "RUN"
    ]
    if not any("--require-hashes" in run and "requirements.lock" in run for run in runs):
        problems.append(f"{label}: installs nothing from requirements.lock with --require-hashes")
    if not any("--no-deps" in run and "./monolith" in run for run in runs):
        problems.append(f"{label}: does not install the workspace packages with --no-deps")
    for target in targets:
        chain = dockerfile.chain(target)
        users = dockerfile.instructions(target, "USER")
        on_server_image = dockerfile.root_image(target).startswith(SERVER_IMAGES)
        if not on_server_image and (not users or users[-1].split(":")[0] in {"root", "0"}):
            problems.append(f"{label}: target {target} runs as root (no USER, or USER root)")
        if target in COMPONENTS:
            if not PYTHON_BASE.match(dockerfile.root_image(target)):
                problems.append(
                    f"{label}: target {target} is built on {dockerfile.root_image(target)}, "
                    "not python:3.11-slim or python:3.12-slim"
                )
            copies = dockerfile.instructions(target, "COPY")
            if not any(c.startswith("--from=") and "/opt/venv" in c for c in copies):
                problems.append(
                    f"{label}: target {target} does not take its venv from a build stage"
                )
            for stage in chain:
                for keyword, rest in stage.instructions:
                    if keyword == "RUN" and re.search(r"\bpip install\b", rest):
                        problems.append(
                            f"{label}: stage {stage.name} (under {target}) installs packages; "
                            "only the build stage should"
                        )
    return problems


def dockerignore_excluded(patterns: list[str], path: str) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parents decides."""
    excluded = False
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for pattern in patterns:
        negate = pattern.startswith("!")
        body = pattern[1:] if negate else pattern
        body = body.strip("/")
        regex = re.escape(body).replace(r"\*\*/", "(.*/)?").replace(r"\*\*", ".*")
        regex = regex.replace(r"\*", "[^/]*").replace(r"\?", "[^/]")
        if any(re.fullmatch(regex, prefix) for prefix in prefixes):
            excluded = not negate
    return excluded


def dockerignore_patterns(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def dockerignore_problems(patterns: list[str], dockerfile: Dockerfile) -> list[str]:
    problems: list[str] = []
    for secret_or_state in (".env", ".venv/bin/python", "var/monolith.sqlite3", ".git/config"):
        if not dockerignore_excluded(patterns, secret_or_state):
            problems.append(f".dockerignore lets {secret_or_state} into the build context")
    for stage in dockerfile.stages.values():
        for keyword, rest in stage.instructions:
            if keyword != "COPY" or rest.startswith("--from="):
                continue
            for source in shlex.split(rest)[:-1]:
                if source.startswith("--"):
                    continue
                source = source.rstrip("/")
                probe = next(iter(files_under(REPO_ROOT / source)), None)
                if probe is None:
                    problems.append(
                        f"{dockerfile.path.name}: copies {source}, which does not exist"
                    )
                elif dockerignore_excluded(patterns, str(probe.relative_to(REPO_ROOT))):
                    problems.append(
                        f"{dockerfile.path.name}: copies {source}, which .dockerignore leaves out"
                    )
    return problems


# --- The tests --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def project() -> Project:
    return Project.load()


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return json.loads(VENDORED_SCHEMA.read_text())


def test_the_committed_schema_is_the_shared_one() -> None:
    if not SHARED_SCHEMA.is_file():
        pytest.skip(f"no shared schema at {SHARED_SCHEMA} to compare the committed copy with")
    assert VENDORED_SCHEMA.read_bytes() == SHARED_SCHEMA.read_bytes(), (
        f"{VENDORED_SCHEMA.relative_to(REPO_ROOT)} differs from {SHARED_SCHEMA}: copy it again "
        "and update the provenance in infra/compose/README.md"
    )


def test_compose_file_matches_the_compose_specification(
    project: Project, schema: dict[str, Any]
) -> None:
    assert_none(schema_problems(project.compose, schema))


def test_every_service_runs_a_real_entry_point_on_its_port(project: Project) -> None:
    assert_none(command_problems(project) + build_problems(project))


def test_every_processing_queue_has_a_worker(project: Project) -> None:
    assert_none(queue_coverage_problems(project))


def test_published_ports_are_the_fixed_ones(project: Project) -> None:
    assert_none(port_problems(project))


def test_every_variable_set_is_read_by_the_code(project: Project) -> None:
    assert_none(environment_read_problems(project))


def test_every_variable_the_code_requires_is_set(project: Project) -> None:
    assert_none(required_environment_problems(project))


def test_required_variables_are_found_in_every_component() -> None:
    # Guards the check above: if the settings stop reading the environment the way
    # required_variables() recognises, it would find nothing and pass silently.
    for module in ("monolith.settings.production", "processing.settings.production"):
        spec = COMPONENTS[module.split(".")[0]]
        files = settings_files(spec, {"DJANGO_SETTINGS_MODULE": module})
        assert {"DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS"} <= set().union(
            *(required_variables(path) for path in files)
        ), module
    for target in ("functions", "sandbox"):
        settings = REPO_ROOT / str(COMPONENTS[target].settings_file)
        assert len(required_variables(settings)) == 2, target


def test_every_long_running_service_has_a_health_check(project: Project) -> None:
    assert_none(healthcheck_problems(project))


def test_depends_on_waits_for_health_and_completed_jobs(project: Project) -> None:
    assert_none(depends_on_problems(project))


def test_shared_folders_are_mounted_where_the_code_reads_them(project: Project) -> None:
    assert_none(volume_problems(project))


def test_no_secret_is_committed(project: Project) -> None:
    assert_none(secret_problems(project))


def test_every_interpolated_variable_is_listed_in_env_example() -> None:
    listed = set(env_file_parse(ENV_EXAMPLE.read_text()))
    missing = sorted(interpolated_variables(compose_load()) - listed)
    assert not missing, (
        f"docker-compose.yml reads {', '.join(missing)} from .env, but .env.example does not "
        "list them: a user who copies it would not know to set them"
    )


def test_nginx_renders_the_shared_template_with_every_variable(project: Project) -> None:
    assert_none(nginx_problems(project))


def test_services_send_traces_to_the_collector(project: Project) -> None:
    assert_none(telemetry_problems(project))


def test_dockerfile_is_multi_stage_slim_non_root_and_locked(project: Project) -> None:
    problems: list[str] = []
    for path, dockerfile in project.dockerfiles.items():
        targets = sorted(
            {
                service["build"]["target"]
                for service in project.services().values()
                if isinstance(service.get("build"), dict)
                and service["build"].get("dockerfile") == path
            }
        )
        problems += dockerfile_problems(dockerfile, targets)
    assert project.dockerfiles, "docker-compose.yml builds nothing from infra/docker/"
    assert_none(problems)


def test_dockerignore_keeps_secrets_out_and_lets_the_sources_in(project: Project) -> None:
    patterns = dockerignore_patterns((REPO_ROOT / ".dockerignore").read_text())
    problems: list[str] = []
    for dockerfile in project.dockerfiles.values():
        problems += dockerignore_problems(patterns, dockerfile)
    assert_none(problems)


def test_the_images_install_every_runtime_dependency_and_no_dev_tool() -> None:
    """The Dockerfile installs the runtime part of requirements.lock (requirements_runtime.py)."""
    import tomllib

    from packaging.requirements import Requirement

    script = REPO_ROOT / "infra" / "docker" / "requirements_runtime.py"
    spec = importlib.util.spec_from_file_location("requirements_runtime", script)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    packages = [
        "contract",
        "runtime",
        "jobs",
        "monolith",
        "services/processing",
        "functions/webhooks",
        "infra/sandbox",
    ]
    projects = [tomllib.loads((REPO_ROOT / p / "pyproject.toml").read_text()) for p in packages]
    roots = {project["project"]["name"] for project in projects}
    kept = module.runtime_blocks(
        module.lock_parse((REPO_ROOT / "requirements.lock").read_text()), roots
    )
    names = {block.name for block in kept}
    declared = {
        module.name_normalize(Requirement(line).name)
        for project in projects
        for line in [
            *project["project"].get("dependencies", []),
            # The extras the images use: the contract's client and telemetry, the functions'
            # server, the processing service's PostgreSQL and Redis drivers.
            *[
                line
                for extra, lines in project["project"].get("optional-dependencies", {}).items()
                if extra in {"client", "telemetry", "serve", "postgres", "redis"}
                for line in lines
            ],
        ]
    } - {module.name_normalize(root) for root in roots}
    assert not declared - names, f"missing from the images: {sorted(declared - names)}"
    dev_tools = {"pytest", "mypy", "ruff", "playwright", "schemathesis", "zappa"}
    assert not dev_tools & names, f"development tools in the images: {sorted(dev_tools & names)}"
    assert all(any("--hash=sha256:" in line for line in block.lines) for block in kept)


# --- The checks can fail: each alters a copy and must be caught --------------------------------


@pytest.fixture(scope="module")
def committed() -> Project:
    """The committed compose file, whatever TESSERA_COMPOSE_FILE names: the copies start here."""
    return Project.load(compose_load(REPO_ROOT / "docker-compose.yml"))


def altered(project: Project) -> Project:
    return Project(
        compose=copy.deepcopy(project.compose),
        dockerfiles=project.dockerfiles,
        env_files=copy.deepcopy(project.env_files),
    )


def test_a_schema_violation_is_reported(committed: Project, schema: dict[str, Any]) -> None:
    broken = altered(committed)
    broken.compose["services"]["nginx"]["healthcheck"]["retires"] = 3
    # Seconds as a bare number: Compose wants a duration ("100s").
    broken.compose["services"]["monolith-worker"]["stop_grace_period"] = 100
    problems = schema_problems(broken.compose, schema)
    assert any("services/nginx/healthcheck" in p and "retires" in p for p in problems), problems
    assert "services/monolith-worker/stop_grace_period: 100 is not of type 'string'" in problems


def test_a_missing_module_or_wrong_port_is_reported(committed: Project) -> None:
    broken = altered(committed)
    services = broken.compose["services"]
    services["monolith-a"]["command"] = ["gunicorn", "monolith.wsgi:app", "--bind=0.0.0.0:8000"]
    services["monolith-b"]["command"] = [
        "gunicorn",
        "monolith.wsgi:application",
        "--bind=0.0.0.0:9000",
    ]
    services["monolith-worker"]["command"] = ["celery", "-A", "monolit", "worker"]
    services["sandbox"]["command"] = ["python", "-m", "tessera_sandbox", "serv"]
    services["processing-migrate"]["command"] = ["django-admin", "migrat"]
    services["processing-worker-reports"]["command"] = [
        "celery", "-A", "processing", "worker", "--queues=tessera.processing.report",
    ]  # fmt: skip
    problems = command_problems(broken) + queue_coverage_problems(broken)
    expected = [
        "monolith-a: gunicorn serves monolith.wsgi:app, but wsgi.py defines no app",
        "monolith-b: gunicorn binds 0.0.0.0:9000, not port 8000",
        "monolith-worker: celery -A monolit: there is no module monolit",
        "sandbox: python -m tessera_sandbox serv: __main__.py knows no 'serv' command",
        "processing-migrate: django-admin migrat: no such management command",
        "processing-worker-reports: celery worker consumes 'tessera.processing.report', "
        "not one of processing's queues in tessera_contract.messaging",
        "no processing worker consumes tessera.processing.reports",
    ]
    for sentence in expected:
        assert sentence in problems, problems


def test_an_unknown_port_is_reported(committed: Project) -> None:
    broken = altered(committed)
    broken.compose["services"]["monolith-a"]["ports"] = ["127.0.0.1:8000:8000"]
    broken.compose["services"]["functions"]["ports"] = ["127.0.0.1:9002:8002"]
    problems = port_problems(broken)
    assert any(p.startswith("monolith-a: publishes 8000") for p in problems), problems
    assert "functions: publishes 8002 as 9002; keep them equal" in problems, problems


def test_a_variable_nothing_reads_is_reported(committed: Project) -> None:
    broken = altered(committed)
    broken.compose["services"]["monolith-a"]["environment"]["DJANGO_DEBUGG"] = "true"
    broken.env_files["infra/compose/sandbox.env"]["SANDBOX_RETRIES"] = "3"
    broken.compose["services"]["postgres"]["environment"]["POSTGRES_HOST_AUTH"] = "trust"
    problems = environment_read_problems(broken)
    assert any(p.startswith("monolith-a: DJANGO_DEBUGG is set") for p in problems), problems
    assert any(p.startswith("sandbox: SANDBOX_RETRIES is set") for p in problems), problems
    assert any(p.startswith("postgres: POSTGRES_HOST_AUTH is set") for p in problems), problems


def test_a_missing_required_variable_is_reported(committed: Project) -> None:
    broken = altered(committed)
    del broken.compose["services"]["processing"]["environment"]["SERVICE_TOKEN_KEYS"]
    broken.compose["services"]["functions"]["environment"]["CARRIER_WEBHOOK_SECRETS"] = ""
    broken.compose["services"]["monolith-worker"]["environment"]["DJANGO_SETTINGS_MODULE"] = (
        "monolith.settings.local"
    )
    problems = required_environment_problems(broken)
    assert any(p.startswith("processing: SERVICE_TOKEN_KEYS is required") for p in problems)
    assert any(p.startswith("functions: CARRIER_WEBHOOK_SECRETS is required") for p in problems)
    assert any(
        p.startswith("monolith-worker: DJANGO_SETTINGS_MODULE is monolith.settings.local")
        for p in problems
    ), problems


def test_a_missing_health_check_or_condition_is_reported(committed: Project) -> None:
    broken = altered(committed)
    services = broken.compose["services"]
    del services["rabbitmq"]["healthcheck"]
    services["processing"]["healthcheck"]["test"] = [
        "CMD",
        "tessera-healthcheck",
        "http://127.0.0.1:8001/",
    ]
    services["processing-worker-documents"]["healthcheck"]["test"] = [
        "CMD-SHELL", "celery -A processing inspect ping --destination=reports@$$HOSTNAME",
    ]  # fmt: skip
    services["sandbox"]["depends_on"] = {"functions": {"condition": "service_started"}}
    services["nginx"]["depends_on"]["monolith-c"] = {"condition": "service_healthy"}
    services["nginx"]["healthcheck"]["test"] = ["CMD", "wget", "-q", "http://127.0.0.1:80/healthz"]
    problems = healthcheck_problems(broken) + depends_on_problems(broken)
    for sentence in (
        "rabbitmq: has no health check",
        "functions: waits for rabbitmq to be healthy, but rabbitmq has no health check",
        "processing: checks /, not /healthz or /readyz",
        "processing-worker-documents: pings reports, but the worker is documents@…",
        "sandbox: waits only for functions to start; wait for its health",
        "nginx: depends on monolith-c, which is not a service",
        "nginx: checks port 80, listens on 8080",
    ):
        assert sentence in problems, problems


def test_a_misplaced_volume_is_reported(committed: Project) -> None:
    broken = altered(committed)
    services = broken.compose["services"]
    services["processing"]["volumes"] = ["results:/srv/tessera/var/media"]
    services["monolith-migrate"]["volumes"] = [
        "media:/srv/tessera/var/media",
        "static:/srv/tessera/var/static:ro",
    ]
    services["nginx"]["environment"]["TESSERA_MEDIA_ROOT"] = "/srv/media"
    problems = volume_problems(broken)
    for sentence in (
        "processing: mounts volume results, which is not declared",
        "monolith-migrate: runs collectstatic but cannot write the static volume",
        "nginx: TESSERA_MEDIA_ROOT=/srv/media, but the media volume is mounted at "
        "/srv/tessera/media",
    ):
        assert sentence in problems, problems


def test_a_committed_secret_is_reported(committed: Project) -> None:
    broken = altered(committed)
    broken.env_files["infra/compose/functions.env"]["PAYMENT_WEBHOOK_SECRETS"] = "whsec_leaked"
    environment = broken.compose["services"]["monolith-a"]["environment"]
    environment["DJANGO_SECRET_KEY"] = "${DJANGO_SECRET_KEY:-insecure}"
    environment["DATABASE_URL"] = (
        "postgres://tessera_monolith:hunter2@postgres:5432/tessera_monolith"
    )
    problems = secret_problems(broken)
    assert (
        "infra/compose/functions.env: PAYMENT_WEBHOOK_SECRETS has a value; secrets belong in .env"
        in problems
    )
    assert any(p.startswith("monolith-a: DJANGO_SECRET_KEY must come from .env") for p in problems)
    assert "monolith-a: DATABASE_URL has a password that is not from .env" in problems, problems


def test_a_template_variable_left_unset_is_reported(committed: Project) -> None:
    broken = altered(committed)
    environment = broken.compose["services"]["nginx"]["environment"]
    del environment["TESSERA_STATIC_ROOT"]
    environment["TESSERA_MONOLITH_UPSTREAM_B"] = "monolith-b:8080"
    problems = nginx_problems(broken)
    assert "nginx: the template uses ${TESSERA_STATIC_ROOT}, which is not set" in problems
    assert any(p.startswith("nginx: TESSERA_MONOLITH_UPSTREAM_B=monolith-b:8080") for p in problems)


def test_a_service_not_traced_to_the_collector_is_reported(committed: Project) -> None:
    broken = altered(committed)
    environment = broken.compose["services"]["functions"]["environment"]
    environment["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://otel-collector:4317"
    del broken.compose["services"]["processing"]["environment"]["OTEL_SERVICE_NAME"]
    problems = telemetry_problems(broken)
    assert any(p.startswith("functions: OTEL_EXPORTER_OTLP_ENDPOINT=http://") for p in problems)
    assert "processing: sets no OTEL_SERVICE_NAME" in problems, problems


def test_a_root_or_unlocked_dockerfile_is_reported() -> None:
    path = REPO_ROOT / "infra" / "docker" / "Dockerfile"
    text = path.read_text()
    text = text.replace("--require-hashes", "").replace(
        "FROM runtime AS monolith", "FROM runtime AS monolith\nUSER root"
    )
    text = text.replace(
        "FROM runtime AS sandbox", "FROM runtime AS sandbox\nRUN pip install requests"
    )
    text = text.replace(
        "ARG PYTHON_IMAGE=python:3.11-slim-bookworm", "ARG PYTHON_IMAGE=python:3.11"
    )
    problems = dockerfile_problems(Dockerfile.parse(path, text), ["monolith", "sandbox"])
    for sentence in (
        "Dockerfile: installs nothing from requirements.lock with --require-hashes",
        "Dockerfile: target monolith runs as root (no USER, or USER root)",
        "Dockerfile: stage sandbox (under sandbox) installs packages; only the build stage should",
        "Dockerfile: target sandbox is built on python:3.11, "
        "not python:3.11-slim or python:3.12-slim",
    ):
        assert sentence in problems, problems


def test_dockerignore_rules_follow_docker() -> None:
    patterns = ["*", "!monolith/", "**/tests/", "!infra/docker/"]
    assert dockerignore_excluded(patterns, ".env")
    assert not dockerignore_excluded(patterns, "monolith/src/monolith/wsgi.py")
    assert dockerignore_excluded(patterns, "monolith/tests/test_money.py")
    assert not dockerignore_excluded(patterns, "infra/docker/Dockerfile")
    assert dockerignore_excluded(patterns, "infra/sandbox/pyproject.toml")
