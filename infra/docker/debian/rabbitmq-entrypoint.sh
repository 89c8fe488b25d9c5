#!/bin/sh
# The official rabbitmq image's RABBITMQ_DEFAULT_USER / RABBITMQ_DEFAULT_PASS, on Debian's
# RabbitMQ: written into its configuration file before the server starts. The default user is
# created only when the node's database is new (the first start of an empty volume).
set -eu
: "${RABBITMQ_DEFAULT_USER:=guest}"
: "${RABBITMQ_DEFAULT_PASS:=guest}"
umask 077
cat > /etc/rabbitmq/rabbitmq.conf <<CONF
listeners.tcp.default = 5672
loopback_users = none
default_user = $RABBITMQ_DEFAULT_USER
default_pass = $RABBITMQ_DEFAULT_PASS
CONF
exec "$@"
