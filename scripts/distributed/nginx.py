"""nginx for the distributed run: the binary, its configuration rendered from the templates that
docker compose uses too, and the check that it can serve the static files."""

from __future__ import annotations

import grp
import os
import pwd
import re
import shutil
import string
import urllib.error
import urllib.request
from pathlib import Path

from scripts import headless_storefront
from scripts.distributed.topology import SetupError, Topology
from scripts.process_supervisor import REPO_ROOT

NGINX_TEMPLATES = REPO_ROOT / "infra" / "nginx" / "templates"
NGINX_TEMPLATE = NGINX_TEMPLATES / "tessera.conf.template"
# The headless storefront's own server block: its built files on their own origin.
NGINX_HEADLESS_TEMPLATE = NGINX_TEMPLATES / "headless.conf.template"


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else "")
    if not found:
        raise SetupError("nginx is not installed: run `bash scripts/ensure_nginx.sh`")
    return found


def nginx_user_directive() -> list[str]:
    """nginx's `user` line: its workers run as the user who runs this command.

    Started as root, nginx's master switches its workers to `nobody` unless told otherwise.
    The static and media roots live in this checkout, written by the run's own processes as
    the user who started it, and a checkout often sits in a folder only its owner may enter
    (mode 0700, like many home folders and every `mktemp -d`): `nobody` then gets 404 for
    every file. Every other part of this run already runs as this user, so its workers add
    no privilege, and no file has to be made world-readable or copied out of the checkout.
    Started as anyone else, nginx cannot switch users and needs no such line.
    """
    if os.geteuid() != 0:
        return []
    user = pwd.getpwuid(os.geteuid()).pw_name
    group = grp.getgrgid(os.getegid()).gr_name
    return [f"user {user} {group};"]


def nginx_static_check(topology: Topology) -> None:
    """Fail the start, naming the folder, when nginx cannot serve the collected static files
    or the headless storefront's build.

    Without this, a page through nginx loads with no stylesheet and no htmx, and nothing
    says why: the access log of /static/ is off.
    """
    for url, root in (
        (f"{topology.public_url}/static/favicon.svg", topology.folder("static")),
        (f"{topology.headless_url}/", topology.folder("headless")),
    ):
        try:
            with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 (http only)
                status = answer.status
        except urllib.error.HTTPError as error:
            status = error.code
        except OSError as error:
            raise SetupError(f"nginx did not answer {url}: {error}") from error
        if status != 200:
            error_log = topology.folder("nginx") / "logs" / "error.log"
            raise SetupError(
                f"nginx answers {status} for {url}: its workers cannot read {root} "
                f"(see {error_log})"
            )


def template_render(template: Path, values: dict[str, str]) -> str:
    """The template with its ${TESSERA_*} names replaced; fails on one left unrendered."""
    text = string.Template(template.read_text()).safe_substitute(values)
    leftover = re.findall(r"\$\{(TESSERA_\w+)\}", text)
    if leftover:
        raise SetupError(f"{template.name}: variables left unrendered: {sorted(set(leftover))}")
    return text


def nginx_config_render(topology: Topology) -> Path:
    """Render the server blocks and wrap them in a private nginx.conf; returns its path.

    The shop's block is shared with docker compose; the headless storefront's is this run's.
    Only the templates' ${TESSERA_*} names are replaced; nginx's own $variables stay.
    """
    prefix = topology.folder("nginx")
    for name in ("logs", "temp"):
        (prefix / name).mkdir(parents=True, exist_ok=True)
    ports = topology.monolith_ports
    values = {
        "TESSERA_NGINX_PORT": f"127.0.0.1:{topology.nginx_port}",
        "TESSERA_MONOLITH_UPSTREAM_A": f"127.0.0.1:{ports[0]}",
        "TESSERA_MONOLITH_UPSTREAM_B": f"127.0.0.1:{ports[1 if len(ports) > 1 else 0]}",
        "TESSERA_STATIC_ROOT": str(topology.folder("static")),
        "TESSERA_MEDIA_ROOT": str(topology.folder("media")),
    }
    server_block = template_render(NGINX_TEMPLATE, values)
    if len(ports) > 2:
        # More replicas than the template names: one more `server` line each, same options.
        first = f"server 127.0.0.1:{ports[1]} "
        extra = "".join(
            f"\n    server 127.0.0.1:{port} max_fails=2 fail_timeout=10s;" for port in ports[2:]
        )
        line_end = server_block.index("\n", server_block.index(first))
        server_block = server_block[:line_end] + extra + server_block[line_end:]
    (prefix / "tessera.conf").write_text(server_block)
    headless_values = {
        "TESSERA_HEADLESS_PORT": f"127.0.0.1:{topology.headless_port}",
        "TESSERA_HEADLESS_ROOT": str(topology.folder("headless")),
        "TESSERA_HEADLESS_CSP": headless_storefront.content_security_policy(topology.public_url),
    }
    (prefix / "headless.conf").write_text(template_render(NGINX_HEADLESS_TEMPLATE, headless_values))
    temp = prefix / "temp"
    conf = prefix / "nginx.conf"
    conf.write_text(
        "\n".join(
            [
                "# Written by scripts/run_distributed.py on every start; edit the template.",
                *nginx_user_directive(),
                "worker_processes 2;",
                f"pid {prefix / 'nginx.pid'};",
                f"error_log {prefix / 'logs' / 'error.log'} notice;",
                "events { worker_connections 1024; }",
                "http {",
                "    include /etc/nginx/mime.types;",
                "    default_type application/octet-stream;",
                "    sendfile on;",
                *(
                    f"    {kind}_temp_path {temp / kind};"
                    for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
                ),
                f"    include {prefix / 'tessera.conf'};",
                f"    include {prefix / 'headless.conf'};",
                # After the include: the log format is defined there.
                f"    access_log {prefix / 'logs' / 'access.log'} tessera_upstream;",
                "}",
                "",
            ]
        )
    )
    return conf
