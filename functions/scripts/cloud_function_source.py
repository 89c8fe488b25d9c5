"""Write the webhook receivers' source folder for Google Cloud Functions, offline.

Cloud Functions builds a Python function from a folder holding ``main.py`` (the entry point)
and ``requirements.txt`` (installed by the platform's build). Tessera's own packages are not
on a package index, so they are copied into the folder beside ``main.py`` (importable from
its root); the third-party ones are pinned to the workspace venv's versions, the ones the
tests ran with.

Usage: ``python functions/scripts/cloud_function_source.py [--output var/functions-cloud-source]``,
then ``gcloud functions deploy … --source <that folder> --entry-point webhooks``
(docs/deploy/cloud-functions.md).
"""

import argparse
import shutil
import sys
from importlib import metadata
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
LOCAL_PACKAGES = [
    REPO_ROOT / "functions" / "webhooks" / "src" / "tessera_functions",
    REPO_ROOT / "contract" / "src" / "tessera_contract",
    REPO_ROOT / "runtime" / "src" / "tessera_runtime",
]
# The dependencies of tessera-functions and of the contract's and the runtime's cores, and
# the framework that serves them.
REQUIREMENTS = ["functions-framework", "kombu", "redis", "msgspec", "PyJWT"]
MAIN = '''"""Cloud Functions' entry point: the webhook receivers."""

from tessera_functions.cloud_function import webhooks

__all__ = ["webhooks"]
'''


def cloud_function_source_write(output: Path) -> Path:
    """Write the folder (replacing it) and return its path."""
    if output.exists():
        shutil.rmtree(output)
    output.mkdir(parents=True)
    for package in LOCAL_PACKAGES:
        shutil.copytree(
            package, output / package.name, ignore=shutil.ignore_patterns("__pycache__")
        )
    pins = [f"{name}=={metadata.version(name)}" for name in REQUIREMENTS]
    (output / "requirements.txt").write_text("\n".join(pins) + "\n")
    (output / "main.py").write_text(MAIN)
    return output


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=REPO_ROOT / "var" / "functions-cloud-source")
    print(cloud_function_source_write(parser.parse_args().output))
    return 0


if __name__ == "__main__":
    sys.exit(main())
