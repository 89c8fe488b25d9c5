"""Build the processing service's jobs API as a Django Lambda zip, offline, with ``zappa package``.

The same project, settings and database code as the service's container: Zappa's
``django_settings`` (``services/processing/zappa_settings.json``) names
``processing.settings.production``, and the stage's environment does the rest. The venv
holds the service (its wheel, with the postgres and s3 extras) and Zappa; the stage's
``exclude`` leaves out what the Lambda runtime provides and what only the service's workers
import (libvips, fpdf2 and their libraries), which the API never loads.
``package_lambda.zappa_zip_build`` does the building, as for the webhook functions.

Usage: ``python functions/scripts/package_processing_lambda.py [--stage dev] [--output PATH]``;
prints the zip's path and size, and fails over Lambda's 50 MB limit for a direct upload.
"""

import sys
from pathlib import Path
from typing import Any

from package_lambda import (
    CONTRACT_DIR,
    REPO_ROOT,
    RUNTIME_DIR,
    package_main,
    zappa_settings_read,
    zappa_zip_build,
)

PROCESSING_DIR = REPO_ROOT / "services" / "processing"
# The job kinds: the API checks requests with them (the kinds themselves run in the workers).
JOBS_DIR = REPO_ROOT / "jobs"
# Lambda refuses a directly uploaded zip over 50 MB (larger needs slim_handler and S3).
SIZE_LIMIT_BYTES = 50 * 1024 * 1024
# The database driver and S3 media; the wheel's own extras cannot be named by path.
REQUIREMENTS = ["psycopg[binary]", "django-storages[s3]"]


def processing_zappa_settings() -> dict[str, Any]:
    """The stages of ``services/processing/zappa_settings.json``."""
    return zappa_settings_read(PROCESSING_DIR / "zappa_settings.json")


def processing_zip_build(
    stage: str, output: Path, build_dir: Path, *, zappa_settings: dict[str, Any] | None = None
) -> Path:
    """Build the processing API's zip for ``stage``; ``zappa_settings`` replaces the file's
    (the benchmark builds an untrimmed variant with it)."""
    return zappa_zip_build(
        sources=[CONTRACT_DIR, RUNTIME_DIR, JOBS_DIR, PROCESSING_DIR],
        requirements=REQUIREMENTS,
        zappa_settings=zappa_settings or processing_zappa_settings(),
        stage=stage,
        output=output,
        build_dir=build_dir,
    )


def main() -> int:
    """Build the zip; fail over 50 MB."""
    return package_main(
        processing_zip_build,
        description=__doc__.splitlines()[0],
        default_output=REPO_ROOT / "var" / "processing-lambda.zip",
        default_build_dir=REPO_ROOT / "var" / "processing-lambda-build",
        size_limit_bytes=SIZE_LIMIT_BYTES,
    )


if __name__ == "__main__":
    sys.exit(main())
