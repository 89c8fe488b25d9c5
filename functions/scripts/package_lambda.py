"""Build the webhook functions' Lambda zip offline with ``zappa package``.

``zappa package`` zips the virtual environment it runs in, plus the folder it runs from. The
workspace venv holds Django and every test tool, so this script builds a dedicated venv with
only ``tessera-functions``, the cores of the contract and the runtime, and Zappa, installed with
``uv --offline`` (from the local cache, pinned to the workspace venv's versions) and runs Zappa
there, from a folder that holds nothing but ``zappa_settings.json``. Zappa needs no AWS credentials
for ``package``; ``use_precompiled_packages: false`` stops it from fetching manylinux wheels,
so the build needs no network at all.

``zappa_zip_build`` is the part every Lambda package shares; ``package_processing_lambda.py``
builds the processing API's zip with it.

Usage: ``python functions/scripts/package_lambda.py [--stage dev] [--output PATH]``;
prints the zip's path and size.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS_DIR = REPO_ROOT / "functions"
CONTRACT_DIR = REPO_ROOT / "contract"
RUNTIME_DIR = REPO_ROOT / "runtime"
WORKSPACE_PYTHON = REPO_ROOT / ".venv" / "bin" / "python"
UV = REPO_ROOT / ".venv" / "bin" / "uv"
# Lambda's python3.11 runtime is what the settings ask for; the venv must match its ABI.
LAMBDA_PYTHON = "3.11"
SIZE_LIMIT_BYTES = 15 * 1024 * 1024


def _run(
    command: list[str | Path], *, cwd: Path | None = None, env: dict[str, str] | None = None
) -> str:
    completed = subprocess.run(  # noqa: S603 - fixed argument lists, no shell
        [str(part) for part in command],
        check=True,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
    )
    return completed.stdout


def workspace_constraints(build_dir: Path) -> Path:
    """Pin the build to the versions the workspace venv was tested with."""
    frozen = _run([UV, "pip", "freeze", "--python", WORKSPACE_PYTHON])
    # Build tools are left free: the venv's own copies are not always in uv's cache.
    pins = [
        line
        for line in frozen.splitlines()
        if "==" in line and line.split("==")[0].lower() not in {"pip", "setuptools", "wheel"}
    ]
    constraints = build_dir / "constraints.txt"
    constraints.write_text("\n".join(pins) + "\n")
    return constraints


def zappa_settings_read(path: Path) -> dict[str, Any]:
    """A ``zappa_settings.json`` as a dict of stages."""
    stages: dict[str, Any] = json.loads(path.read_text())
    return stages


def zappa_zip_build(
    *,
    sources: Sequence[Path],
    requirements: Sequence[str],
    zappa_settings: dict[str, Any],
    stage: str,
    output: Path,
    build_dir: Path,
) -> Path:
    """Build ``output`` for ``stage`` of ``zappa_settings`` and return its path.

    ``sources`` are the workspace's own projects to install (as wheels), ``requirements``
    the extra distributions beside them (extras their wheels cannot name).
    """
    if build_dir.exists():
        shutil.rmtree(build_dir)
    venv = build_dir / "venv"
    project = build_dir / "project"
    project.mkdir(parents=True)
    _run([UV, "venv", "--quiet", "--python", LAMBDA_PYTHON, venv])
    # Wheels of the local packages, built here: installing their folders could reuse uv's
    # cached editable builds (from the workspace install) and zip a .pth pointer, not the code.
    wheels = build_dir / "wheels"
    for source in sources:
        _run([UV, "build", "--quiet", "--offline", "--wheel", "--out-dir", wheels, source])
    _run(
        [
            UV, "pip", "install", "--quiet", "--offline",
            "--python", venv / "bin" / "python",
            "--constraint", workspace_constraints(build_dir),
            *sorted(wheels.glob("*.whl")), *requirements, "zappa",
        ]
    )  # fmt: skip
    (project / "zappa_settings.json").write_text(json.dumps(zappa_settings, indent=4))
    output.parent.mkdir(parents=True, exist_ok=True)
    environment = {
        **os.environ,
        "VIRTUAL_ENV": str(venv),
        "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    _run(
        [venv / "bin" / "zappa", "package", stage, "--output", output.resolve()],
        cwd=project,
        env=environment,
    )
    return output


def lambda_zip_build(stage: str, output: Path, build_dir: Path) -> Path:
    """Build the webhook functions' zip for ``stage`` and return its path."""
    return zappa_zip_build(
        sources=[CONTRACT_DIR, RUNTIME_DIR, FUNCTIONS_DIR / "webhooks"],
        requirements=[],
        zappa_settings=zappa_settings_read(FUNCTIONS_DIR / "zappa_settings.json"),
        stage=stage,
        output=output,
        build_dir=build_dir,
    )


def package_main(
    build: Callable[[str, Path, Path], Path],
    *,
    description: str,
    default_output: Path,
    default_build_dir: Path,
    size_limit_bytes: int,
) -> int:
    """The command line every packaging script shares: build, report the size, enforce the
    budget."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--stage", default="dev", choices=["dev", "prod"])
    parser.add_argument("--output", type=Path, default=default_output)
    parser.add_argument("--build-dir", type=Path, default=default_build_dir)
    arguments = parser.parse_args()
    try:
        archive = build(arguments.stage, arguments.output, arguments.build_dir)
    except subprocess.CalledProcessError as error:
        sys.stderr.write(f"{error.cmd[:3]} failed:\n{error.stdout}\n{error.stderr}\n")
        return 1
    size = archive.stat().st_size
    print(f"{archive} {size} bytes ({size / 1024 / 1024:.2f} MiB)")
    if size > size_limit_bytes:
        sys.stderr.write(f"the Lambda zip is over its {size_limit_bytes:,}-byte budget\n")
        return 1
    return 0


def main() -> int:
    """Build the functions' zip; fail when it is over 15 MB."""
    return package_main(
        lambda_zip_build,
        description=__doc__.splitlines()[0],
        default_output=REPO_ROOT / "var" / "functions-lambda.zip",
        default_build_dir=REPO_ROOT / "var" / "functions-build",
        size_limit_bytes=SIZE_LIMIT_BYTES,
    )


if __name__ == "__main__":
    sys.exit(main())
