"""The Kubernetes dev overlay played on this machine's engine: `podman kube play`.

No Kubernetes API server runs here, but Debian's podman 4.3 plays Kubernetes YAML. The overlay
`infra/k8s/overlays/local-play` (dev, on the Debian stand-ins, with host ports) is rendered by
the locked `kubectl kustomize`, and what podman has no controller for is adapted or left out,
each with its reason (PLAY_ADAPTATIONS); the rest is played as Kubernetes would order it:

1. the engine: scripts/ensure_container_engine.sh --podman (Docker's engine, whose store holds
   the images, and podman with netavark, aardvark-dns and catatonit), and a containers.conf of
   this play's own (runc, cgroupfs, ulimits within the host's hard limits);
2. the images, built in Docker's store by scripts/container_stack.py's steps when missing,
   copied into podman's (`docker save | podman load`) when it lacks that exact image;
3. the secrets, generated (never written into the repository) as podman secrets;
4. the data services' pods, until their readiness probes pass; the migration Jobs' pods, until
   they exit 0; then every other workload's pod, until their readiness probes pass;
5. `podman kube play --down`, and every secret, volume and the network removed.

    .venv/bin/python scripts/kube_play.py up    # play it; the shop on http://127.0.0.1:9080/
    .venv/bin/python scripts/kube_play.py down  # tear it down
"""

from __future__ import annotations

import argparse
import base64
import copy
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.container_stack import (
    ENGINE_SCRIPT,
    REPO_ROOT,
    Stack,
    StackError,
    env_file_ensure,
    image_exists,
    output,
    run,
    secrets_generate,
    stand_ins_build,
    step,
    tool,
)

OVERLAY = REPO_ROOT / "infra" / "k8s" / "overlays" / "local-play"
STATE_DIR = REPO_ROOT / "var" / "kube-play"
NETWORK = "tessera-play"
# Where the overlay publishes the shop and the webhook functions (hostPort, on every address).
MONOLITH_URL = "http://127.0.0.1:9080"
FUNCTIONS_URL = "http://127.0.0.1:9002"
PUBLISHED_PORTS = (9080, 9002)
DEMO_PRODUCTS = 20
# Production settings refuse the demo logins' public passwords.
SEED_DEMO = ("django-admin", "seed_demo", "--skip-users")
# podman 4.3 lowers its own process limit (and so conmon's) to this; runc cannot raise it.
PODMAN_PROCESS_LIMIT = 32768
# Cold, on 2 busy cores: PostgreSQL's first start, the migrations, gunicorn and Celery.
READY_TIMEOUT_SECONDS = 240
JOB_TIMEOUT_SECONDS = 240
PROBE_TIMEOUT_SECONDS = 10

# The kinds the overlay renders that podman 4.3 does not play as they are, and what is done.
PLAY_ADAPTATIONS = {
    "Deployment": "played as one Pod named after its Service (podman names a Deployment's pod "
    "<name>-pod-0, which no Service name resolves to)",
    "StatefulSet": "played as one Pod <name>, hostname <name>-0, its volumeClaimTemplates as "
    "PersistentVolumeClaims <template>-<name>-0 (podman 4.3 has no StatefulSet)",
    "Job": "its pod played with restartPolicy Never once the data services are ready, waited "
    "for to exit 0 (podman 4.3 has no Job controller to retry it)",
    "initContainers": "each played as a pod of its own before its pod, on the same named "
    "volumes, waited for to exit 0 (podman 4.3 fails to remove a finished init container and "
    "with it the pod)",
    "Service": "left out: podman has no virtual IPs or kube-proxy; each pod is named after the "
    "Service that selects it, so the network's DNS (aardvark-dns) answers the Service's name",
    "HorizontalPodAutoscaler": "left out: podman has no metrics server or autoscaler",
    "PodDisruptionBudget": "left out: podman has no eviction API or node drains",
    "NetworkPolicy": "left out: podman's networks have no policy enforcement (netavark "
    "connects every pod on a network to every other)",
    "Secret": "not rendered (the overlay names them only); created as podman secrets from "
    "generated values, since 4.3 stores a Secret object's YAML as is, which its own "
    "secretKeyRef cannot read",
}
# Fields podman 4.3 would act on wrongly here: a livenessProbe becomes a health check that a
# systemd timer runs, and these machines have no systemd. Readiness is evaluated by this
# script itself from the rendered probes (exec through `podman exec`, httpGet on the pod).
PROBES = ("livenessProbe", "readinessProbe", "startupProbe")
# Secret names the manifests reference, and where their keys are listed.
SECRET_TEMPLATES = REPO_ROOT / "infra" / "k8s" / "secrets"


def containers_conf() -> Path:
    """podman's configuration for this play: runc, cgroupfs and ulimits the host allows."""
    files = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    processes = min(resource.getrlimit(resource.RLIMIT_NPROC)[1], PODMAN_PROCESS_LIMIT)
    if processes == resource.RLIM_INFINITY:
        processes = PODMAN_PROCESS_LIMIT
    path = STATE_DIR / "containers.conf"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "# Written by scripts/kube_play.py for `podman kube play` on a machine without systemd.\n"
        "[containers]\n"
        # podman's defaults exceed the hard limits of a machine that is itself a container.
        f'default_ulimits = ["nofile={files}:{files}", "nproc={processes}:{processes}"]\n'
        'log_driver = "k8s-file"\n'
        "[engine]\n"
        'cgroup_manager = "cgroupfs"\n'
        'runtime = "runc"\n'
        'events_logger = "file"\n'
        "[network]\n"
        'network_backend = "netavark"\n'
    )
    return path


def podman(*argv: str, check: bool = True, **options: Any) -> subprocess.CompletedProcess[str]:
    """podman with this play's configuration (CONTAINERS_CONF)."""
    options.setdefault("capture_output", True)
    environment = {**os.environ, "CONTAINERS_CONF": str(STATE_DIR / "containers.conf")}
    done = run(["podman", *argv], check=False, env=environment, **options)
    if check and done.returncode != 0:
        raise StackError(f"podman {' '.join(argv[:3])} exited {done.returncode}:\n{done.stderr}")
    return done


def engine_ensure() -> None:
    """Docker's engine (the images' store) and podman, installed and started when missing."""
    try:
        run(["bash", str(ENGINE_SCRIPT), "--podman"])
    except subprocess.CalledProcessError as error:
        message = f"no engine to play on: {ENGINE_SCRIPT.name} exited {error.returncode}"
        raise StackError(message) from error
    containers_conf()


def rendered() -> list[dict[str, Any]]:
    """The local-play overlay as the locked `kubectl kustomize` renders it."""
    kubectl = Path(sys.executable).parent / "kubectl"
    done = output([str(kubectl), "kustomize", str(OVERLAY)])
    if done.returncode != 0:
        raise StackError(f"kubectl kustomize {OVERLAY.name} failed:\n{done.stderr}")
    return [document for document in yaml.safe_load_all(done.stdout) if document]


def image_names(objects: Iterable[Mapping[str, Any]]) -> list[str]:
    names = {
        container["image"]
        for item in objects
        if item["kind"] in {"Deployment", "StatefulSet", "Job"}
        for kind in ("initContainers", "containers")
        for container in item["spec"]["template"]["spec"].get(kind, [])
    }
    return sorted(names)


def images_ensure(images: list[str]) -> None:
    """Every image in Docker's store (built when missing), then in podman's (copied when its
    copy is missing or another build)."""
    if not all(image_exists(image) for image in images):
        stand_ins_build()
        step("Building Tessera's images (docker compose build)")
        stack = Stack(project="tessera-kube-play", env_file=STATE_DIR / "compose.env")
        env_file_ensure(stack.env_file, fresh=False)
        run(stack.compose("build", "--quiet", "monolith-a", "processing", "functions", "sandbox"))

    def image_id(engine: str, image: str) -> str:
        inspect = [engine, "image", "inspect", "--format", "{{.Id}}", image]
        found = podman(*inspect[1:], check=False) if engine == "podman" else output(inspect)
        return found.stdout.strip().removeprefix("sha256:")

    stale = [image for image in images if image_id("podman", image) != image_id("docker", image)]
    if stale:
        step(f"Copying {len(stale)} images from Docker's store into podman's")
        with subprocess.Popen([tool("docker"), "save", *stale], stdout=subprocess.PIPE) as save:
            podman("load", "--quiet", stdin=save.stdout)
        if save.returncode != 0:
            raise StackError(f"docker save exited {save.returncode}")


def secret_values() -> dict[str, dict[str, str]]:
    """The four secrets the overlay names, from fresh values, keyed as their templates list."""
    values = secrets_generate()
    database = "postgres://tessera_{0}:{1}@postgres:5432/tessera_{0}"
    broker = f"amqp://tessera:{values['RABBITMQ_PASSWORD']}@rabbitmq:5672//"
    shared = {
        "CELERY_BROKER_URL": broker,
        "SERVICE_TOKEN_KEYS": values["SERVICE_TOKEN_KEYS"],
        "JOB_RESULT_CALLBACK_SECRETS": values["JOB_RESULT_CALLBACK_SECRETS"],
    }
    secrets = {
        "tessera-monolith": {
            "DJANGO_SECRET_KEY": values["DJANGO_SECRET_KEY"],
            "DATABASE_URL": database.format("monolith", values["MONOLITH_DATABASE_PASSWORD"]),
            **shared,
        },
        "tessera-processing": {
            "DJANGO_SECRET_KEY": values["PROCESSING_DJANGO_SECRET_KEY"],
            "PROCESSING_DATABASE_URL": database.format(
                "processing", values["PROCESSING_DATABASE_PASSWORD"]
            ),
            **shared,
        },
        "tessera-functions": {
            "WEBHOOKS_BROKER_URL": broker,
            "PAYMENT_WEBHOOK_SECRETS": values["PAYMENT_WEBHOOK_SECRETS"],
            "CARRIER_WEBHOOK_SECRETS": values["CARRIER_WEBHOOK_SECRETS"],
        },
        "tessera-datastores": {
            name: values[name]
            for name in (
                "POSTGRES_PASSWORD",
                "MONOLITH_DATABASE_PASSWORD",
                "PROCESSING_DATABASE_PASSWORD",
                "RABBITMQ_PASSWORD",
            )
        },
    }
    for name, keys in secrets.items():
        template = SECRET_TEMPLATES / f"{name.removeprefix('tessera-')}.env.example"
        listed = {
            line.split("=", 1)[0]
            for line in template.read_text().splitlines()
            if "=" in line and not line.startswith("#")
        }
        if listed != set(keys):
            raise StackError(
                f"{name}: the play sets {sorted(keys)}, {template.name} lists {listed}"
            )
    return secrets


@dataclass
class PlayedPod:
    """A pod this play runs: the workload it stands for, and its containers as rendered (their
    probes and named ports, which the spec given to podman leaves out)."""

    name: str
    workload: dict[str, Any]
    spec: dict[str, Any]
    containers: list[dict[str, Any]]

    def document(self) -> dict[str, Any]:
        template = self.workload["spec"]["template"]
        return {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": self.name, "labels": template["metadata"].get("labels", {})},
            "spec": self.spec,
        }

    def container_name(self, container: Mapping[str, Any]) -> str:
        return f"{self.name}-{container['name']}"


@dataclass
class Play:
    """The rendered overlay split into what podman plays, in order, and what it leaves out."""

    # podman reads a ConfigMap only from the file that plays the pods using it.
    config_maps: list[dict[str, Any]] = field(default_factory=list)
    claims: list[dict[str, Any]] = field(default_factory=list)
    data_services: list[PlayedPod] = field(default_factory=list)
    jobs: list[PlayedPod] = field(default_factory=list)
    workloads: list[PlayedPod] = field(default_factory=list)
    left_out: dict[str, list[str]] = field(default_factory=dict)
    volumes: list[str] = field(default_factory=list)

    def pods(self) -> list[PlayedPod]:
        return [*self.data_services, *self.jobs, *self.workloads]

    def phases(self) -> list[tuple[str, list[PlayedPod]]]:
        return [
            ("data-services", self.data_services),
            ("jobs", self.jobs),
            ("workloads", self.workloads),
        ]


def service_names(objects: list[dict[str, Any]]) -> list[tuple[str, dict[str, str], list[Any]]]:
    return [
        (item["metadata"]["name"], item["spec"]["selector"], item["spec"]["ports"])
        for item in objects
        if item["kind"] == "Service"
    ]


def pod_spec_for_podman(
    pod: str, template_spec: Mapping[str, Any], *, hostname: str | None = None
) -> dict[str, Any]:
    """The pod spec without probes (PROBES), with only the ports that name a hostPort (podman
    4.3 publishes every containerPort on the host), and its emptyDir volumes named per pod
    (podman 4.3 makes each a named volume, which pods naming theirs alike would share), and
    HOSTNAME in every container's environment, as the kubelet sets it (the workers' probes ping
    their own Celery node by it)."""
    spec = copy.deepcopy(dict(template_spec))
    if hostname is not None:
        spec["hostname"] = hostname
    renamed: dict[str, str] = {}
    for volume in spec.get("volumes", []):
        if "emptyDir" in volume:
            renamed[volume["name"]] = f"{pod}-{volume['name']}"
            volume["name"] = renamed[volume["name"]]
    for container in [*spec.get("initContainers", []), *spec["containers"]]:
        for probe in PROBES:
            container.pop(probe, None)
        published = [port for port in container.get("ports", []) if "hostPort" in port]
        if published:
            container["ports"] = published
        else:
            container.pop("ports", None)
        for mount in container.get("volumeMounts", []):
            mount["name"] = renamed.get(mount["name"], mount["name"])
        container.setdefault("env", []).append({"name": "HOSTNAME", "value": hostname or pod})
    return spec


def play_plan(objects: list[dict[str, Any]]) -> Play:
    """What podman plays of the rendered objects, and what it leaves out (PLAY_ADAPTATIONS)."""
    play = Play()
    services = service_names(objects)
    for item in objects:
        kind, name = item["kind"], item["metadata"]["name"]
        if kind == "ConfigMap":
            play.config_maps.append(item)
            continue
        if kind == "PersistentVolumeClaim":
            play.claims.append(item)
            play.volumes.append(name)
            continue
        if kind not in {"Deployment", "StatefulSet", "Job"}:
            play.left_out.setdefault(kind, []).append(name)
            continue
        template = item["spec"]["template"]
        labels = template["metadata"].get("labels", {})
        pod_name = next(
            (service for service, selector, _ in services if selector.items() <= labels.items()),
            name,
        )
        # A StatefulSet's pod is <name>-0 to itself (RabbitMQ's node name says so).
        hostname = f"{name}-0" if kind == "StatefulSet" else None
        spec = pod_spec_for_podman(pod_name, template["spec"], hostname=hostname)
        # podman 4.3 makes a named volume of each emptyDir and of each ConfigMap mounted.
        play.volumes += [v["name"] for v in spec.get("volumes", []) if "emptyDir" in v]
        play.volumes += [
            v["configMap"]["name"] for v in spec.get("volumes", []) if "configMap" in v
        ]
        # podman 4.3 fails to remove a finished init container ("cannot remove container … as
        # it is running") and with it the pod: each runs as a pod of its own first, on the same
        # named volumes, as a Job's pod.
        for container in spec.pop("initContainers", []):
            init_spec = {**spec, "containers": [container], "restartPolicy": "Never"}
            init_name = f"{pod_name}-{container['name']}"
            play.jobs.append(PlayedPod(init_name, item, init_spec, [container]))
        played = PlayedPod(pod_name, item, spec, list(template["spec"]["containers"]))
        if kind == "StatefulSet":
            for claim in item["spec"].get("volumeClaimTemplates", []):
                claim_name = f"{claim['metadata']['name']}-{name}-0"
                play.claims.append(
                    {
                        "apiVersion": "v1",
                        "kind": "PersistentVolumeClaim",
                        "metadata": {"name": claim_name},
                        "spec": claim["spec"],
                    }
                )
                play.volumes.append(claim_name)
                spec.setdefault("volumes", []).append(
                    {
                        "name": claim["metadata"]["name"],
                        "persistentVolumeClaim": {"claimName": claim_name},
                    }
                )
            play.data_services.append(played)
        elif kind == "Job":
            spec["restartPolicy"] = "Never"
            play.jobs.append(played)
        else:
            play.workloads.append(played)
    return play


def pod_address(pod: str) -> str:
    found = podman(
        "pod", "inspect", "--format", "{{.InfraContainerID}}", pod, check=False
    ).stdout.strip()
    template = "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}"
    return podman("inspect", "--format", template, found, check=False).stdout.strip()


def probe_passes(pod: PlayedPod, container: Mapping[str, Any], probe: Mapping[str, Any]) -> bool:
    """One readiness probe, as the kubelet runs it."""
    timeout = probe.get("timeoutSeconds", PROBE_TIMEOUT_SECONDS)
    if "exec" in probe:
        argv = probe["exec"]["command"]
        try:
            done = podman(
                "exec", pod.container_name(container), *argv, check=False, timeout=timeout + 5
            )
        except subprocess.TimeoutExpired:
            return False
        return done.returncode == 0
    if "httpGet" in probe:
        get = probe["httpGet"]
        port = get["port"]
        if isinstance(port, str):
            port = next(p["containerPort"] for p in container["ports"] if p.get("name") == port)
        headers = {h["name"]: h["value"] for h in get.get("httpHeaders", [])}
        url = f"http://{pod_address(pod.name)}:{port}{get['path']}"
        try:
            answer = httpx.get(url, headers=headers, timeout=timeout)
        except httpx.HTTPError:
            return False
        return 200 <= answer.status_code < 400
    raise StackError(f"{pod.name}: a probe podman's player does not know: {probe}")


def pod_ready(pod: PlayedPod) -> bool:
    """Every container running and passing its readiness probe (started, when it has none)."""
    for container in pod.containers:
        state = podman(
            "inspect", "--format", "{{.State.Status}}", pod.container_name(container), check=False
        ).stdout.strip()
        if state != "running":
            return False
        probe = container.get("readinessProbe")
        if probe is not None and not probe_passes(pod, container, probe):
            return False
    return True


def wait_for(condition: Callable[[], bool], *, timeout: float, what: str) -> float:
    """Poll `condition` until it holds; the seconds it took, or StackError after `timeout`."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if condition():
            return time.monotonic() - started
        time.sleep(1)
    raise StackError(f"not reached within {timeout:.0f} s: {what}")


def container_logs(name: str, lines: int = 30) -> str:
    return podman("logs", "--tail", str(lines), name, check=False).stdout


@dataclass
class KubePlay:
    """One play of the local-play overlay on podman, and its teardown."""

    plan: Play
    secrets: dict[str, dict[str, str]]
    state_dir: Path = STATE_DIR
    seconds: dict[str, float] = field(default_factory=dict)

    def phase_file(self, phase: str) -> Path:
        return self.state_dir / f"{phase}.yaml"

    def up(self) -> None:
        podman("network", "create", NETWORK)
        for name, values in self.secrets.items():
            encoded = {
                key: base64.b64encode(value.encode()).decode() for key, value in values.items()
            }
            podman("secret", "create", name, "-", input=json.dumps(encoded))
        for phase, pods in self.plan.phases():
            documents = [*self.plan.config_maps, *(pod.document() for pod in pods)]
            if phase == "data-services":
                documents = [*self.plan.claims, *documents]
            self.phase_file(phase).write_text(yaml.safe_dump_all(documents, sort_keys=False))
            step(f"podman kube play: {phase} ({', '.join(pod.name for pod in pods)})")
            started = time.monotonic()
            podman("kube", "play", "--network", NETWORK, str(self.phase_file(phase)))
            if phase == "jobs":
                for pod in pods:
                    self.job_wait(pod)
            else:
                for pod in pods:
                    self.ready_wait(pod)
            self.seconds[phase] = time.monotonic() - started

    def ready_wait(self, pod: PlayedPod) -> None:
        try:
            wait_for(
                lambda: pod_ready(pod), timeout=READY_TIMEOUT_SECONDS, what=f"{pod.name} ready"
            )
        except StackError as error:
            logs = "\n".join(
                container_logs(pod.container_name(container)) for container in pod.containers
            )
            raise StackError(f"{error}\n{logs}") from error

    def job_wait(self, pod: PlayedPod) -> None:
        container = pod.container_name(pod.containers[0])

        def exited() -> bool:
            state = podman("inspect", "--format", "{{.State.Status}}", container, check=False)
            return state.stdout.strip() in {"exited", "stopped"}

        wait_for(exited, timeout=JOB_TIMEOUT_SECONDS, what=f"{pod.name} finished")
        code = podman("inspect", "--format", "{{.State.ExitCode}}", container).stdout.strip()
        if code != "0":
            raise StackError(f"{pod.name} exited {code}:\n{container_logs(container)}")

    def exec(self, pod: str, container: str, *argv: str) -> str:
        return podman("exec", f"{pod}-{container}", *argv).stdout

    def down(self) -> None:
        """Every pod, secret, volume and the network of the play removed."""
        step("podman kube play --down, then the secrets, volumes and the network")
        for phase, _ in reversed(self.plan.phases()):
            if self.phase_file(phase).exists():
                podman("kube", "play", "--down", str(self.phase_file(phase)), check=False)
        for pod in self.plan.pods():
            podman("pod", "rm", "--force", pod.name, check=False)
        for name in self.secrets:
            podman("secret", "rm", name, check=False)
        for volume in self.plan.volumes:
            podman("volume", "rm", "--force", volume, check=False)
        podman("network", "rm", "--force", NETWORK, check=False)

    def leftovers(self) -> list[str]:
        """Pods, secrets, volumes and the network of this play that podman still has."""
        found: list[str] = []
        pods = {pod.name for pod in self.plan.pods()}
        listings = {
            "pod": (podman("pod", "ps", "--format", "{{.Name}}").stdout.split(), pods),
            "container": (
                podman("ps", "--all", "--format", "{{.PodName}}").stdout.split(),
                pods,
            ),
            "secret": (
                podman("secret", "ls", "--format", "{{.Name}}").stdout.split(),
                set(self.secrets),
            ),
            "volume": (
                podman("volume", "ls", "--format", "{{.Name}}").stdout.split(),
                set(self.plan.volumes),
            ),
            "network": (podman("network", "ls", "--format", "{{.Name}}").stdout.split(), {NETWORK}),
        }
        for kind, (present, ours) in listings.items():
            found += [f"{kind} {name}" for name in present if name in ours]
        return found


def left_out_report(plan: Play) -> str:
    kinds = sorted(
        set(plan.left_out) | {"Deployment", "StatefulSet", "Job", "Secret", "initContainers"}
    )
    lines = []
    for kind in kinds:
        names = plan.left_out.get(kind, [])
        detail = f" ({len(names)}: {', '.join(names)})" if names else ""
        lines.append(f"  {kind}{detail}: {PLAY_ADAPTATIONS[kind]}")
    return (
        "What podman 4.3 does not run as rendered, and what the play does instead:\n"
        + "\n".join(lines)
    )


def play_prepare(*, images: bool = True) -> KubePlay:
    """Engine, plan, images (unless only tearing down) and secrets: all before a pod starts."""
    engine_ensure()
    objects = rendered()
    plan = play_plan(objects)
    unknown = set(plan.left_out) - set(PLAY_ADAPTATIONS)
    if unknown:
        raise StackError(f"kinds the play does not know how to treat: {sorted(unknown)}")
    if images:
        images_ensure(image_names(objects))
    return KubePlay(plan=plan, secrets=secret_values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("up", "down"))
    arguments = parser.parse_args(argv)
    try:
        play = play_prepare(images=arguments.command == "up")
        # A previous play, interrupted or still up, goes first.
        play.down()
        if arguments.command == "up":
            print(left_out_report(play.plan), flush=True)
            play.up()
            products = str(DEMO_PRODUCTS)
            play.exec("monolith", "monolith", *SEED_DEMO, "--products", products)
            print(
                f"\nThe dev overlay is played on podman: the shop on {MONOLITH_URL}/, the webhook "
                f"functions on {FUNCTIONS_URL}/webhooks/payments.\n"
                "`.venv/bin/python scripts/kube_play.py down` tears it down.",
                flush=True,
            )
    except StackError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    os.umask(0o022)
    sys.exit(main())
