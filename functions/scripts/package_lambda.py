"""Build the webhook functions' Lambda zip offline with ``zappa package``.

``zappa package`` zips the virtual environment it runs in, plus the folder it runs from. The
workspace venv holds Django and every test tool, so this script builds a dedicated venv with
only ``tessera-functions``, the contract's core and Zappa, installed with ``uv --offline``
(from the local cache, pinned to the workspace venv's versions) and runs Zappa there, from
a folder that holds nothing but ``zappa_settings.json``. Zappa needs no AWS credentials
for ``package``; ``use_precompiled_packages: false`` stops it from fetching manylinux wheels,
so the build needs no network at all.

Usage: ``python functions/scripts/package_lambda.py [--stage dev] [--output PATH]``;
prints the zip's path and size.
"""

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS_DIR = REPO_ROOT / "functions"
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


def lambda_zip_build(stage: str, output: Path, build_dir: Path) -> Path:
    """Build ``output`` for ``stage`` and return its path."""
    if build_dir.exists():
        shutil.rmtree(build_dir)
    venv = build_dir / "venv"
    project = build_dir / "project"
    project.mkdir(parents=True)
    _run([UV, "venv", "--quiet", "--python", LAMBDA_PYTHON, venv])
    # Wheels of the local packages, built here: installing their folders could reuse uv's
    # cached editable builds (from the workspace install) and zip a .pth pointer, not the code.
    wheels = build_dir / "wheels"
    for source in (REPO_ROOT / "contract", FUNCTIONS_DIR / "webhooks"):
        _run([UV, "build", "--quiet", "--offline", "--wheel", "--out-dir", wheels, source])
    _run(
        [
            UV, "pip", "install", "--quiet", "--offline",
            "--python", venv / "bin" / "python",
            "--constraint", workspace_constraints(build_dir),
            *sorted(wheels.glob("*.whl")), "zappa",
        ]
    )  # fmt: skip
    shutil.copy(FUNCTIONS_DIR / "zappa_settings.json", project / "zappa_settings.json")
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


def main() -> int:
    """Build the zip and report its size; fail when it is over 15 MB."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", default="dev", choices=["dev", "prod"])
    parser.add_argument("--output", type=Path, default=REPO_ROOT / "var" / "functions-lambda.zip")
    parser.add_argument("--build-dir", type=Path, default=REPO_ROOT / "var" / "functions-build")
    arguments = parser.parse_args()
    try:
        archive = lambda_zip_build(arguments.stage, arguments.output, arguments.build_dir)
    except subprocess.CalledProcessError as error:
        sys.stderr.write(f"{error.cmd[:3]} failed:\n{error.stdout}\n{error.stderr}\n")
        return 1
    size = archive.stat().st_size
    print(f"{archive} {size} bytes ({size / 1024 / 1024:.2f} MiB)")
    if size > SIZE_LIMIT_BYTES:
        sys.stderr.write("the Lambda zip is over the 15 MB budget\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
