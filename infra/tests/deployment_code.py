"""What a deployment file may point at in the code, and the checks both deployments share.

docker-compose.yml (test_compose_file.py) and the Kubernetes manifests
(test_kubernetes_manifests.py) start the same images with the same commands, settings and health
checks. Both are held to the code through this module: the components and their ports, the
queues of tessera_contract.messaging, the variables the settings read (and require), the
Dockerfile's targets, the commands' entry points. Each check returns its findings as sentences.
"""

from __future__ import annotations

import ast
import json
import re
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from tessera_contract import messaging

REPO_ROOT = Path(__file__).resolve().parents[2]


# The queues each Celery application's workers may consume: the one definition of their names.
APP_QUEUES: dict[str, tuple[str, ...]] = {
    "processing": messaging.PROCESSING_QUEUES,
    "monolith": (messaging.WEBHOOK_QUEUE, messaging.MONOLITH_TASK_QUEUE),
}

HEALTH_PATHS = {"/healthz", "/readyz"}


@dataclass(frozen=True)
class Component:
    """A Python image target: the code that reads its environment, and the port it serves."""

    source_roots: tuple[str, ...]
    port: int
    # Non-Django components read their environment in one settings module.
    settings_file: str | None = None

    def roots(self) -> list[Path]:
        return [REPO_ROOT / root for root in self.source_roots]


COMPONENTS = {
    "monolith": Component(("monolith/src", "contract/src", "runtime/src"), 8000),
    "processing": Component(("services/processing/src", "contract/src", "runtime/src"), 8001),
    "functions": Component(
        ("functions/webhooks/src", "contract/src", "runtime/src"),
        8002,
        settings_file="functions/webhooks/src/tessera_functions/settings.py",
    ),
    "sandbox": Component(
        ("infra/sandbox/src", "contract/src"),
        8003,
        settings_file="infra/sandbox/src/tessera_sandbox/settings.py",
    ),
}


# Variables read by programs rather than by Tessera's code, per image (their documentation).
IMAGE_VARIABLES: dict[str, set[str]] = {
    "postgres": {"POSTGRES_PASSWORD", "POSTGRES_USER", "POSTGRES_DB", "PGDATA"},
    "rabbitmq": {
        "RABBITMQ_DEFAULT_USER",
        "RABBITMQ_DEFAULT_PASS",
        "RABBITMQ_DEFAULT_VHOST",
        "RABBITMQ_NODENAME",
    },
    "redis": set(),
    "nginx": set(),
}
# Variables the Python interpreter reads rather than Tessera's code.
INTERPRETER_VARIABLES = {"PATH", "PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE"}


# Values that must never be written into a committed file.
SECRET_NAME = re.compile(r"(SECRETS?|KEYS?|PASSWORD|PASS|TOKENS?)$")
URL_PASSWORD = re.compile(r"://[^:/@\s]+:([^@\s]+)@")


def env_file_parse(text: str) -> dict[str, str]:
    """KEY=VALUE lines; comments and blank lines skipped, as Compose's env_file reads them."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, _, value = line.partition("=")
        values[name.strip()] = value.strip()
    return values


def argv_of(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    return shlex.split(value) if isinstance(value, str) else [str(part) for part in value]


@dataclass
class Stage:
    name: str
    base: str  # an image, or the name of an earlier stage
    instructions: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Dockerfile:
    """The instructions of a Dockerfile, grouped by stage; global ARG defaults substituted."""

    path: Path
    stages: dict[str, Stage]

    @classmethod
    def parse(cls, path: Path, text: str | None = None) -> Dockerfile:
        text = path.read_text() if text is None else text
        logical: list[str] = []
        pending = ""
        for raw in text.splitlines():
            stripped = raw.strip()
            if not pending and (not stripped or stripped.startswith("#")):
                continue
            if stripped.startswith("#"):
                continue  # a comment inside a continued instruction
            if stripped.endswith("\\"):
                pending += stripped[:-1] + " "
                continue
            logical.append(pending + stripped)
            pending = ""
        arguments: dict[str, str] = {}
        stages: dict[str, Stage] = {}
        current: Stage | None = None
        for line in logical:
            keyword, _, rest = line.partition(" ")
            keyword = keyword.upper()
            rest = rest.strip()
            if keyword == "ARG" and current is None:
                name, _, default = rest.partition("=")
                arguments[name] = default
            elif keyword == "FROM":
                words = re.sub(r"\$\{(\w+)\}", lambda m: arguments.get(m[1], ""), rest).split()
                words = [word for word in words if not word.startswith("--")]
                name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else words[0]
                current = Stage(name=name, base=words[0])
                stages[name] = current
            elif current is not None:
                current.instructions.append((keyword, rest))
        return cls(path=path, stages=stages)

    def chain(self, target: str) -> list[Stage]:
        """The stages `target` is built on, the root first."""
        stages: list[Stage] = []
        name: str | None = target
        while name is not None and name in self.stages:
            stage = self.stages[name]
            stages.insert(0, stage)
            name = stage.base if stage.base in self.stages else None
        return stages

    def root_image(self, target: str) -> str:
        return self.chain(target)[0].base

    def instructions(self, target: str, keyword: str) -> list[str]:
        return [
            rest for stage in self.chain(target) for kw, rest in stage.instructions if kw == keyword
        ]

    def environment(self, target: str) -> dict[str, str]:
        values: dict[str, str] = {}
        for rest in self.instructions(target, "ENV"):
            for word in shlex.split(rest):
                name, _, value = word.partition("=")
                values[name] = value
        return values

    def exec_form(self, target: str, keyword: str) -> list[str]:
        found = self.instructions(target, keyword)
        if not found:
            return []
        value = found[-1]
        return json.loads(value) if value.startswith("[") else shlex.split(value)


@cache
def code_strings(roots: tuple[Path, ...]) -> frozenset[str]:
    """Every string literal in the Python code under `roots` (names the code can read)."""
    strings: set[str] = set()
    for root in roots:
        for path in root.rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    strings.add(node.value)
    return frozenset(strings)


@cache
def opentelemetry_variables() -> frozenset[str]:
    """The OTEL_* variables the OpenTelemetry SDK reads (its own list of them)."""
    from opentelemetry.sdk import environment_variables

    return frozenset(name for name in dir(environment_variables) if name.startswith("OTEL_"))


def module_file(module: str, roots: Iterable[Path], *, main: bool = False) -> Path | None:
    """The source file of `module` (its __main__ with `main`) under one of `roots`."""
    for root in roots:
        base = root / module.replace(".", "/")
        candidates = (
            [base / "__main__.py"] if main else [base.with_suffix(".py"), base / "__init__.py"]
        )
        for candidate in candidates:
            if candidate.is_file():
                return candidate
    return None


def module_names(path: Path) -> set[str]:
    """Names bound at a module's top level (assignments, imports, definitions)."""
    names: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign):
            names.update(target.id for target in node.targets if isinstance(target, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.ImportFrom | ast.Import):
            names.update(alias.asname or alias.name for alias in node.names)
        elif isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.add(node.name)
    return names


def settings_files(component: Component, environment: Mapping[str, str]) -> list[Path]:
    """The settings modules a component loads in this environment (star imports followed)."""
    if component.settings_file is not None:
        return [REPO_ROOT / component.settings_file]
    module = environment.get("DJANGO_SETTINGS_MODULE", "")
    first = module_file(module, component.roots()) if module else None
    if first is None:
        return []
    files = [first]
    for node in ast.parse(first.read_text()).body:
        if isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names):
            sibling = first.parent / f"{node.module}.py"
            if node.level == 1 and sibling.is_file():
                files.append(sibling)
    return files


def required_variables(path: Path) -> set[str]:
    """Variables a settings module reads without a default: start-up fails without them.

    django-environ: `env("X")`, `env.str("X")`, `env.list("X")`… without `default=`.
    The functions' and the sandbox's settings: `_secrets(environ, "X", …)`, which raises when
    the value is empty (a receiver that cannot verify must not run).
    """
    required: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call):
            continue
        names = [
            a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)
        ]
        function = node.func
        reads_env = (isinstance(function, ast.Name) and function.id == "env") or (
            isinstance(function, ast.Attribute)
            and isinstance(function.value, ast.Name)
            and function.value.id == "env"
        )
        # A second positional argument is a default too; Mapping.get never raises.
        has_default = len(node.args) > 1 or any(k.arg == "default" for k in node.keywords)
        if isinstance(function, ast.Attribute) and function.attr == "get":
            has_default = True
        if reads_env and names and isinstance(node.args[0], ast.Constant) and not has_default:
            required.add(names[0])
        if isinstance(function, ast.Name) and function.id == "_secrets" and names:
            required.add(names[0])
    return required


def shell_commands(argv: list[str]) -> list[list[str]]:
    if argv[:2] == ["sh", "-c"] and len(argv) == 3:
        return [shlex.split(part) for part in argv[2].split("&&")]
    return [argv]


def option_value(argv: list[str], *names: str) -> str | None:
    for index, word in enumerate(argv):
        for option in names:
            if word == option and index + 1 < len(argv):
                return argv[index + 1]
            if option.startswith("--") and word.startswith(option + "="):
                return word.split("=", 1)[1]
    return None


def one_command_problems(
    argv: list[str], component: Component, environment: Mapping[str, str]
) -> list[str]:
    roots = component.roots()
    program = argv[0]
    if program == "gunicorn":
        specs = [w for w in argv[1:] if re.fullmatch(r"[\w.]+:\w+", w)]
        if not specs:
            return ["gunicorn names no module:application"]
        module, _, attribute = specs[0].partition(":")
        path = module_file(module, roots)
        if path is None:
            return [f"gunicorn serves {specs[0]}, but there is no module {module}"]
        if attribute not in module_names(path):
            return [f"gunicorn serves {specs[0]}, but {path.name} defines no {attribute}"]
        return bind_problems(option_value(argv, "--bind", "-b"), component.port, "gunicorn")
    if program == "celery":
        return celery_problems(argv, component)
    if program == "django-admin":
        return django_command_problems(argv[1] if len(argv) > 1 else "", roots)
    if program == "python" and argv[1:2] == ["-m"]:
        module = argv[2]
        main = module_file(module, roots, main=True) or module_file(module, roots)
        if main is None:
            return [f"python -m {module}: there is no such module"]
        commands = [w for w in argv[3:] if not w.startswith("-")]
        problems = [
            f"python -m {module} {word}: {main.name} knows no {word!r} command"
            for word in commands[:1]
            if word not in code_strings((main.parent,))
        ]
        port = option_value(argv, "--port")
        if port is not None and int(port) != component.port:
            problems.append(f"python -m {module} serves port {port}, not {component.port}")
        if module == "tessera_functions.serve":
            problems += bind_problems(environment.get("WEBHOOKS_BIND"), component.port, module)
        return problems
    return [f"runs {program}, which is not one of the components' entry points"]


def bind_problems(bind: str | None, port: int, program: str) -> list[str]:
    if bind is None:
        return [f"{program} is given no address to bind"]
    host, _, bound = bind.rpartition(":")
    problems = []
    if bound != str(port):
        problems.append(f"{program} binds {bind}, not port {port}")
    if host not in {"0.0.0.0", "[::]"}:  # noqa: S104 - a container must listen on all
        problems.append(f"{program} binds {bind}: other containers cannot reach {host or 'it'}")
    return problems


def celery_problems(argv: list[str], component: Component) -> list[str]:
    roots = component.roots()
    app = option_value(argv, "-A", "--app") or ""
    package = module_file(app, roots)
    if package is None:
        return [f"celery -A {app}: there is no module {app}"]
    exported = module_names(package)
    app_modules = [
        path
        for path in package.parent.glob("*.py")
        if re.search(r"^\w+\s*=\s*Celery\(", path.read_text(), re.MULTILINE)
    ]
    if not app_modules or not ({"celery_app", "app", "celery"} & exported):
        return [f"celery -A {app}: {app} exports no Celery application"]
    problems: list[str] = []
    queues = option_value(argv, "-Q", "--queues")
    if "worker" in argv and queues:
        defined = APP_QUEUES.get(app, ())
        problems += [
            f"celery worker consumes {queue!r}, not one of {app}'s queues in "
            "tessera_contract.messaging"
            for queue in queues.split(",")
            if queue not in defined
        ]
    return problems


def django_command_problems(command: str, roots: Iterable[Path]) -> list[str]:
    import django

    django_dir = Path(django.__file__).parent
    candidates = [django_dir / "core" / "management" / "commands" / f"{command}.py"]
    candidates += list(django_dir.glob(f"contrib/*/management/commands/{command}.py"))
    for root in roots:
        candidates += list(root.glob(f"**/management/commands/{command}.py"))
    if not any(path.is_file() for path in candidates):
        return [f"django-admin {command}: no such management command"]
    return []


def worker_check_problems(name: str, argv: list[str], check: list[str]) -> list[str]:
    node = (option_value(argv, "-n", "--hostname") or "").split("@")[0]
    destination = (option_value(check, "-d", "--destination") or "").split("@")[0]
    if "inspect" not in check or "ping" not in check:
        return [f"{name}: a worker's health check should be `celery inspect ping`"]
    if option_value(check, "-A", "--app") != option_value(argv, "-A", "--app"):
        return [f"{name}: pings another Celery app than the one it runs"]
    if not node or destination != node:
        return [f"{name}: pings {destination or 'every node'}, but the worker is {node or '?'}@…"]
    return []


def unread_variable_problems(name: str, target: str, environment: Mapping[str, str]) -> list[str]:
    """The variables a container of image `target` is given that no code of that image reads."""
    spec = COMPONENTS[target]
    strings = code_strings(tuple(spec.roots()))
    problems: list[str] = []
    for variable in sorted(environment):
        if variable in strings or variable in INTERPRETER_VARIABLES:
            continue
        if variable.startswith("OTEL_") and variable in opentelemetry_variables():
            continue
        problems.append(
            f"{name}: {variable} is set, but no code of the {target} image reads it "
            f"({', '.join(spec.source_roots)})"
        )
    return problems


def unset_required_problems(name: str, target: str, environment: Mapping[str, str]) -> list[str]:
    """The production settings are loaded, and every variable they require is set (non-empty)."""
    spec = COMPONENTS[target]
    problems: list[str] = []
    if spec.settings_file is None:
        module = environment.get("DJANGO_SETTINGS_MODULE", "")
        if not module.endswith(".settings.production"):
            problems.append(
                f"{name}: DJANGO_SETTINGS_MODULE is {module or 'not set'}; a deployment "
                "runs the production settings (the Celery apps default to local ones)"
            )
    files = settings_files(spec, environment)
    if not files:
        problems.append(f"{name}: no settings module found for the {target} image")
    required = set().union(*(required_variables(path) for path in files)) if files else set()
    for variable in sorted(required):
        if not environment.get(variable):
            where = ", ".join(str(path.relative_to(REPO_ROOT)) for path in files)
            problems.append(f"{name}: {variable} is required by {where} but is not set")
    return problems


def assert_none(problems: list[str]) -> None:
    assert not problems, "\n".join(["", *problems])
