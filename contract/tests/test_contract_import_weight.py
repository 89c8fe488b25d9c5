"""The hot-path modules stay light: a webhook function never loads the HTTP client, the tools
or a web framework."""

import json
import subprocess
import sys

import pytest

HEAVY = [
    "httpx",
    "tenacity",
    "pybreaker",
    "jwt",
    "yaml",
    "tessera_contract.client",
    "django",
    "rest_framework",
]


def _modules_after_import(statement: str) -> set[str]:
    probe = f"import sys; {statement}; import json; print(json.dumps(sorted(sys.modules)))"
    completed = subprocess.run(
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True
    )
    return set(json.loads(completed.stdout))


@pytest.mark.parametrize(
    "statement",
    [
        "import tessera_contract.models",
        "import tessera_contract.webhooks",
        "import tessera_contract.signing",
        "import tessera_contract.trace_context",
        "import tessera_contract",
        "import tessera_contract.json_limits",
        "import tessera_contract.messaging",
    ],
)
def test_hot_path_modules_do_not_import_heavy_dependencies(statement: str) -> None:
    loaded = _modules_after_import(statement)

    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))


def test_service_tokens_load_pyjwt_but_not_the_http_client() -> None:
    loaded = _modules_after_import("import tessera_contract.signing.service_tokens")

    assert "jwt" in loaded
    assert loaded.isdisjoint({"httpx", "tenacity", "pybreaker"})


def test_the_queue_names_load_no_framework() -> None:
    """Run scripts, compose checks and the functions read them without Django, Celery or kombu."""
    loaded = _modules_after_import("import tessera_contract.messaging")

    frameworks = {"django", "celery", "kombu", "msgspec", *HEAVY}
    assert loaded.isdisjoint(frameworks), sorted(loaded & frameworks)
