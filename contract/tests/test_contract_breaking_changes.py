"""The compatibility check fails on breaking changes unless the major version changes."""

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from contract_testing import CONTRACT_DIR
from tessera_contract.breaking_changes import contract_compare, main, working_tree_files

GIT = shutil.which("git") or "git"


def _copy_contract(target: Path) -> Path:
    target.mkdir(parents=True)
    for name in ("openapi.yaml", "asyncapi.yaml"):
        shutil.copy(CONTRACT_DIR / name, target / name)
    shutil.copytree(CONTRACT_DIR / "schemas", target / "schemas")
    return target


class _Edit:
    """Load, change and save one file of a copied contract."""

    def __init__(self, root: Path, name: str) -> None:
        self.path = root / name

    def __enter__(self) -> Any:
        text = self.path.read_text()
        self.document = json.loads(text) if self.path.suffix == ".json" else yaml.safe_load(text)
        return self.document

    def __exit__(self, *exc_info: object) -> None:
        if self.path.suffix == ".json":
            self.path.write_text(json.dumps(self.document, indent=2))
        else:
            self.path.write_text(yaml.safe_dump(self.document, sort_keys=False))


def _bump_major(root: Path, document: str) -> None:
    with _Edit(root, document) as doc:
        doc["info"]["version"] = "2.0.0"


def remove_operation(root: Path) -> None:
    with _Edit(root, "openapi.yaml") as doc:
        del doc["paths"]["/api/v1/jobs/{job_id}/cancel"]["post"]


def remove_response_field(root: Path) -> None:
    with _Edit(root, "schemas/job.json") as schema:
        del schema["properties"]["progress"]
        schema["required"].remove("progress")


def make_response_field_optional(root: Path) -> None:
    with _Edit(root, "schemas/job.json") as schema:
        schema["required"].remove("attempts")


def narrow_request_type(root: Path) -> None:
    with _Edit(root, "schemas/job-create-request.json") as schema:
        schema["$defs"]["ImageRenditionsInput"]["properties"]["widths"]["items"]["type"] = "string"


def narrow_request_bound(root: Path) -> None:
    with _Edit(root, "schemas/job-create-request.json") as schema:
        schema["$defs"]["ImageRenditionsInput"]["properties"]["widths"]["maxItems"] = 4


def remove_request_variant(root: Path) -> None:
    with _Edit(root, "schemas/job-create-request.json") as schema:
        schema["oneOf"].pop()


def add_required_request_field(root: Path) -> None:
    with _Edit(root, "schemas/job-create-request.json") as schema:
        image = schema["$defs"]["ImageRenditionsInput"]
        image["properties"]["quality"] = {"type": "integer", "minimum": 1, "maximum": 100}
        image["required"].append("quality")


def add_required_header(root: Path) -> None:
    with _Edit(root, "openapi.yaml") as doc:
        doc["paths"]["/api/v1/jobs/{job_id}"]["get"]["parameters"] = [
            {"name": "X-Tenant", "in": "header", "required": True, "schema": {"type": "string"}}
        ]


def add_response_enum_value(root: Path) -> None:
    with _Edit(root, "schemas/common.json") as schema:
        schema["$defs"]["JobStatus"]["enum"].append("paused")


def remove_success_response(root: Path) -> None:
    with _Edit(root, "openapi.yaml") as doc:
        del doc["paths"]["/api/v1/jobs"]["post"]["responses"]["200"]


def remove_message_field(root: Path) -> None:
    with _Edit(root, "schemas/job-queued.json") as schema:
        del schema["properties"]["attempt"]
        schema["required"].remove("attempt")


def add_required_message_field(root: Path) -> None:
    with _Edit(root, "schemas/job-queued.json") as schema:
        schema["properties"]["priority"] = {"type": "integer"}
        schema["required"].append("priority")


def rename_channel_address(root: Path) -> None:
    with _Edit(root, "asyncapi.yaml") as doc:
        doc["channels"]["processingJobs"]["address"] = "tessera.jobs"


BREAKING: dict[str, tuple[Callable[[Path], None], str, str]] = {
    "removed operation": (remove_operation, "openapi.yaml", "operation removed"),
    "removed response field": (remove_response_field, "openapi.yaml", "response field removed"),
    "response field may be absent": (
        make_response_field_optional,
        "openapi.yaml",
        "may now be absent",
    ),
    "narrowed request type": (narrow_request_type, "openapi.yaml", "type narrowed"),
    "narrowed request bound": (narrow_request_bound, "openapi.yaml", "maxItems tightened"),
    "removed request variant": (remove_request_variant, "openapi.yaml", "no longer accepted"),
    "new required request field": (
        add_required_request_field,
        "openapi.yaml",
        "new required request field",
    ),
    "new required header": (add_required_header, "openapi.yaml", "new required parameter"),
    "new response enum value": (add_response_enum_value, "openapi.yaml", '"paused"'),
    "removed success response": (remove_success_response, "openapi.yaml", "response removed"),
    "removed message field": (remove_message_field, "asyncapi.yaml", "field removed"),
    "new required message field": (
        add_required_message_field,
        "asyncapi.yaml",
        "new required request field",
    ),
    "renamed channel address": (rename_channel_address, "asyncapi.yaml", "address changed"),
}


def add_optional_request_field(root: Path) -> None:
    with _Edit(root, "schemas/job-create-request.json") as schema:
        schema["$defs"]["ImageRenditionsInput"]["properties"]["quality"] = {"type": "integer"}


def add_response_field(root: Path) -> None:
    with _Edit(root, "schemas/job.json") as schema:
        schema["properties"]["queue_position"] = {"type": ["integer", "null"]}
        schema["required"].append("queue_position")


def add_operation(root: Path) -> None:
    with _Edit(root, "openapi.yaml") as doc:
        doc["paths"]["/api/v1/jobs/{job_id}/retry"] = {
            "post": {
                "operationId": "processing_job_retry",
                "responses": {"202": {"description": "Queued again."}},
            }
        }


def widen_request_bound(root: Path) -> None:
    with _Edit(root, "schemas/job-create-request.json") as schema:
        schema["$defs"]["ImageRenditionsInput"]["properties"]["widths"]["maxItems"] = 32


def add_optional_parameter(root: Path) -> None:
    with _Edit(root, "openapi.yaml") as doc:
        doc["paths"]["/api/v1/jobs/{job_id}"]["get"]["parameters"] = [
            {"name": "fields", "in": "query", "required": False, "schema": {"type": "string"}}
        ]


def add_request_enum_value(root: Path) -> None:
    with _Edit(root, "schemas/job-create-request.json") as schema:
        formats = schema["$defs"]["ImageRenditionsInput"]["properties"]["formats"]
        formats["items"]["enum"].append("png")


COMPATIBLE: dict[str, Callable[[Path], None]] = {
    "new optional request field": add_optional_request_field,
    "new response field": add_response_field,
    "new operation": add_operation,
    "widened request bound": widen_request_bound,
    "new optional parameter": add_optional_parameter,
    "new request enum value": add_request_enum_value,
}


def test_the_contract_is_compatible_with_itself() -> None:
    files = working_tree_files(CONTRACT_DIR)

    report = contract_compare(files, files)

    assert report.compatible
    assert all(document.findings == () for document in report.documents)


@pytest.mark.parametrize("change", sorted(BREAKING))
def test_a_breaking_change_fails_with_a_readable_finding(tmp_path: Path, change: str) -> None:
    alter, document, expected = BREAKING[change]
    old = _copy_contract(tmp_path / "old")
    new = _copy_contract(tmp_path / "new")
    alter(new)

    report = contract_compare(working_tree_files(old), working_tree_files(new))

    assert not report.compatible
    rendered = report.render()
    assert expected in rendered
    assert f"{document}: " in rendered
    assert "NOT allowed without a new major version" in rendered


@pytest.mark.parametrize("change", sorted(BREAKING))
def test_a_breaking_change_passes_with_a_new_major_version(tmp_path: Path, change: str) -> None:
    alter, document, _ = BREAKING[change]
    old = _copy_contract(tmp_path / "old")
    new = _copy_contract(tmp_path / "new")
    alter(new)
    _bump_major(new, document)

    report = contract_compare(working_tree_files(old), working_tree_files(new))

    assert report.compatible
    assert "allowed by the new major version" in report.render()


@pytest.mark.parametrize("change", sorted(COMPATIBLE))
def test_a_compatible_change_passes_without_a_new_major_version(
    tmp_path: Path, change: str
) -> None:
    old = _copy_contract(tmp_path / "old")
    new = _copy_contract(tmp_path / "new")
    COMPATIBLE[change](new)

    report = contract_compare(working_tree_files(old), working_tree_files(new))

    assert report.compatible, report.render()


def _git(repository: Path, *arguments: str) -> None:
    subprocess.run(
        [
            GIT,
            "-c",
            "user.name=Tessera Tests",
            "-c",
            "user.email=tests@tessera.invalid",
            *arguments,
        ],
        cwd=repository,
        check=True,
        capture_output=True,
    )


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    _copy_contract(root / "contract")
    _git(root, "init", "--quiet", "--initial-branch=main")
    _git(root, "add", "contract")
    _git(root, "commit", "--quiet", "-m", "contract 1.0.0")
    return root


def test_cli_fails_on_a_breaking_change_in_the_working_tree(
    repository: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    remove_response_field(repository / "contract")

    exit_code = main(["--against", "HEAD", "--repository", str(repository)])

    assert exit_code == 1
    assert "progress: response field removed" in capsys.readouterr().out


def test_cli_compares_two_commits_and_accepts_a_major_release(
    repository: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    remove_response_field(repository / "contract")
    _git(repository, "commit", "--quiet", "-am", "drop progress")

    breaking = main(["--against", "HEAD~1", "--current", "HEAD", "--repository", str(repository)])
    _bump_major(repository / "contract", "openapi.yaml")
    _bump_major(repository / "contract", "asyncapi.yaml")
    _git(repository, "commit", "--quiet", "-am", "contract 2.0.0")
    released = main(["--against", "HEAD~2", "--current", "HEAD", "--repository", str(repository)])

    assert (breaking, released) == (1, 0)


def test_cli_passes_when_the_contract_is_new(
    repository: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repository / "README").write_text("before the contract existed")
    _git(repository, "add", "README")
    _git(repository, "commit", "--quiet", "-m", "readme")
    _git(repository, "rm", "--quiet", "-r", "--cached", "contract")
    _git(repository, "commit", "--quiet", "-m", "remove contract from history")

    exit_code = main(["--against", "HEAD", "--repository", str(repository)])

    assert exit_code == 0
    assert "new document, nothing to compare" in capsys.readouterr().out


def test_cli_reports_an_unknown_revision_as_a_usage_error(
    repository: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    exit_code = main(["--against", "no-such-branch", "--repository", str(repository)])

    assert exit_code == 2
    assert "no-such-branch" in capsys.readouterr().err
