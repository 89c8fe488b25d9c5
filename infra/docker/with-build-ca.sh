#!/bin/sh
# Runs a build step that downloads (pip, uv, npm) trusting the build secret `build-ca` as well
# as the image's own certificate authorities: what a TLS-inspecting proxy needs. Without the
# secret the step runs as it is. The combined bundle lives only for the step.
set -eu
secret=/run/secrets/build-ca
if [ ! -s "$secret" ]; then
    exec "$@"
fi
bundle=$(mktemp)
trap 'rm -f "$bundle"' EXIT
cat /etc/ssl/certs/ca-certificates.crt "$secret" > "$bundle" 2>/dev/null || cat "$secret" > "$bundle"
SSL_CERT_FILE="$bundle" PIP_CERT="$bundle" NODE_EXTRA_CA_CERTS="$bundle" "$@"
