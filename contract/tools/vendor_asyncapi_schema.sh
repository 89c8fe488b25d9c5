#!/usr/bin/env bash
# Refresh contract/vendor/asyncapi-specs from the npm package @asyncapi/specs.
# Usage: contract/tools/vendor_asyncapi_schema.sh <package version>
# Uses npm's configured registry; records the package integrity and the file's SHA-256.
set -euo pipefail

version="${1:?usage: $0 <@asyncapi/specs version>}"
target="$(cd "$(dirname "$0")/../vendor/asyncapi-specs" && pwd)"
workdir="$(mktemp -d)"
trap 'rm -rf "$workdir"' EXIT

cd "$workdir"
npm pack --silent "@asyncapi/specs@${version}" >/dev/null
integrity="$(npm view "@asyncapi/specs@${version}" dist.integrity)"
tar xzf asyncapi-specs-*.tgz

cp 'package/schemas/3.0.0-without-$id.json' "$target/asyncapi-3.0.0.schema.json"
cp package/LICENSE "$target/LICENSE"
cp package/NOTICE "$target/NOTICE"
sha256="$(sha256sum "$target/asyncapi-3.0.0.schema.json" | cut -d' ' -f1)"

cat >"$target/provenance.json" <<JSON
{
  "package": "@asyncapi/specs",
  "version": "${version}",
  "package_integrity": "${integrity}",
  "file_in_package": "schemas/3.0.0-without-\$id.json",
  "vendored_as": "asyncapi-3.0.0.schema.json",
  "sha256": "${sha256}",
  "license": "Apache-2.0"
}
JSON
echo "vendored @asyncapi/specs ${version} (sha256 ${sha256})"
