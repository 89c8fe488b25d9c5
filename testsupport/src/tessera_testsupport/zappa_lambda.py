"""Driving a Lambda zip built by ``zappa package`` through Zappa's own ``lambda_handler``.

The zip is unpacked two levels below the root, as Lambda's /var/task is, and each batch of
events goes to a fresh interpreter (``python -I -S``) that sees only the unpacked code and
what Lambda's python3.11 runtime provides besides it (boto3 and its dependencies): what
the zip forgot fails here, not on Lambda. API Gateway's two payload formats are built by
``rest_event`` (REST API, payload 1.0) and ``http_api_event`` (HTTP API, payload 2.0).
"""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol

# What Lambda's python3.11 runtime puts on sys.path besides the function's own code.
LAMBDA_RUNTIME_PACKAGES = [
    "boto3",
    "botocore",
    "s3transfer",
    "jmespath",
    "dateutil",
    "six.py",
    "urllib3",
]

RUNNER = """
import json, sys
sys.path[:0] = [sys.argv[1], sys.argv[2]]
from handler import lambda_handler
events = json.load(sys.stdin)
print(json.dumps([lambda_handler(event, None) for event in events]))
"""


@dataclass(frozen=True)
class UnpackedLambda:
    """A Lambda zip unpacked as /var/task, beside a folder standing for the runtime's SDK."""

    code: Path
    runtime: Path
    zip_bytes: int


class LambdaEvent(Protocol):
    def __call__(
        self, method: str, path: str, body: bytes, headers: dict[str, str]
    ) -> dict[str, Any]: ...


def packaging_script_load(script: Path) -> ModuleType:
    """Import a packaging script (``functions/scripts/*.py``) as a module, its folder on
    ``sys.path`` as when it runs, so that it finds the sibling module it shares code with."""
    folder = str(script.parent)
    if folder not in sys.path:
        sys.path.append(folder)
    spec = importlib.util.spec_from_file_location(script.stem, script)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {script}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@contextmanager
def lambda_unpacked(archive: Path, work_dir: Path) -> Iterator[UnpackedLambda]:
    """Unpack ``archive`` under /tmp (two levels deep, like /var/task) and link the runtime's
    boto3 from this interpreter's site-packages into ``work_dir``."""
    code = Path(tempfile.mkdtemp(prefix="task-", dir="/tmp"))
    try:
        with zipfile.ZipFile(archive) as unpacked:
            unpacked.extractall(code)
        runtime = work_dir / "runtime"
        runtime.mkdir()
        site_packages = Path(next(p for p in sys.path if p.endswith("site-packages")))
        for name in LAMBDA_RUNTIME_PACKAGES:
            (runtime / name).symlink_to(site_packages / name)
        yield UnpackedLambda(code=code, runtime=runtime, zip_bytes=archive.stat().st_size)
    finally:
        shutil.rmtree(code)


def lambda_invoke(
    package: UnpackedLambda, events: list[dict[str, Any]], environment: Mapping[str, str]
) -> list[dict[str, Any]]:
    """Call ``handler.lambda_handler`` for each event in one cold interpreter whose
    environment is only ``environment`` (and PATH), as the function's configuration is."""
    completed = subprocess.run(
        # -I -S: no user site, no venv site-packages; only the zip and the runtime's boto3.
        [sys.executable, "-I", "-S", "-c", RUNNER, str(package.code), str(package.runtime)],
        input=json.dumps(events),
        capture_output=True,
        text=True,
        env={"PATH": os.environ.get("PATH", ""), **environment},
        cwd=package.code,
        timeout=120,
        check=False,
    )
    if completed.returncode != 0:
        raise AssertionError(f"the Lambda interpreter failed:\n{completed.stderr}")
    answers: list[dict[str, Any]] = json.loads(completed.stdout.splitlines()[-1])
    return answers


def rest_event(method: str, path: str, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    """An API Gateway REST API (payload 1.0) proxy event, as the {proxy+} resource sends it."""
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "path": f"/dev{path}",
            "stage": "dev",
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "identity": {"sourceIp": "198.51.100.7", "userAgent": "tessera-tests"},
        },
        "body": body.decode() if body else None,
        "isBase64Encoded": False,
    }


def http_api_event(method: str, path: str, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) event on the $default stage."""
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {name.lower(): value for name, value in headers.items()},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api-id",
            "domainName": "id.execute-api.eu-west-1.amazonaws.com",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "198.51.100.7",
                "userAgent": "tessera-tests",
            },
            "requestId": "JKJaXmPLvHcESHA=",
            "routeKey": "$default",
            "stage": "$default",
        },
        "body": base64.b64encode(body).decode() if body else None,
        "isBase64Encoded": bool(body),
    }


EVENT_FORMATS: dict[str, LambdaEvent] = {"rest-v1": rest_event, "http-api-v2": http_api_event}


def lambda_answer_body(answer: dict[str, Any]) -> bytes:
    """The body of a proxy answer, decoded when Zappa sent it as base64."""
    body = answer.get("body") or ""
    return base64.b64decode(body) if answer.get("isBase64Encoded") else str(body).encode()


def lambda_answer_headers(answer: dict[str, Any]) -> dict[str, str]:
    """The answer's headers by lower-case name."""
    return {name.lower(): value for name, value in (answer.get("headers") or {}).items()}
