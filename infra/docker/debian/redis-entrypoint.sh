#!/bin/sh
# As the official redis image does: inside a container the network is the boundary, so the
# server answers on every interface without protected mode unless the command says otherwise.
set -eu
if [ "${1:-}" = redis-server ]; then
    case " $* " in
        *" --protected-mode "*) ;;
        *) shift; set -- redis-server "$@" --protected-mode no ;;
    esac
fi
exec "$@"
