#!/bin/sh
# The official nginx image's templates, on Debian's nginx: each /etc/nginx/templates/*.template
# is rendered into /etc/nginx/conf.d/ with envsubst, replacing only variables that are set, so
# nginx's own $variables stay as they are.
set -eu
defined=$(env | cut -d= -f1 | sed 's/^/${/; s/$/}/' | tr '\n' ' ')
for template in /etc/nginx/templates/*.template; do
    [ -e "$template" ] || continue
    output="/etc/nginx/conf.d/$(basename "$template" .template)"
    envsubst "$defined" < "$template" > "$output"
    echo "rendered $template to $output"
done
exec "$@"
