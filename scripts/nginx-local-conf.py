"""Writes deploy/nginx.conf rewritten to run on this machine without root, for the checks.

    python3 scripts/nginx-local-conf.py --work DIR --listen 127.0.0.1:18100 \\
        --node 127.0.0.1:18101 --node 127.0.0.1:18102 > DIR/nginx.conf
    nginx -p DIR -e DIR/error.log -c DIR/nginx.conf -g 'daemon off;'

Only what ties the file to a production machine changes: the node list (each node keeps the
parameters of the file's first node: max_fails, fail_timeout, max_conns), the listening address, and
the pid file, the logs and the temporary folders, which go to DIR (Debian's nginx otherwise uses
/run, /var/log/nginx and /var/lib/nginx, which only root may write). The proxying, timeouts and
headers are the file's own, so the checks test the configuration that is deployed. A rewrite that
no longer finds what it replaces fails, rather than leaving a production path in place.
"""

import argparse
import os
import re
import sys


def replace_once(text: str, pattern: str, replacement: str) -> str:
    new, count = re.subn(pattern, lambda match: match.expand(replacement), text, flags=re.MULTILINE)
    if count != 1:
        sys.exit(f"nginx-local-conf: expected one match of {pattern!r} in the configuration, found {count}")
    return new


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conf", default=os.path.join(os.path.dirname(__file__), "..", "deploy", "nginx.conf"))
    parser.add_argument("--work", required=True, help="folder for the pid file, logs and temporary files")
    parser.add_argument("--listen", required=True, help="address:port nginx listens on")
    parser.add_argument("--node", action="append", required=True, help="address:port of a chat-server node (repeat)")
    arguments = parser.parse_args()
    work = os.path.abspath(arguments.work)

    with open(arguments.conf) as file:
        text = file.read()

    nodes = re.search(r"^(\s*)# nodes: begin\n(.*?)^\s*# nodes: end$", text, flags=re.MULTILINE | re.DOTALL)
    if not nodes:
        sys.exit("nginx-local-conf: no '# nodes: begin' ... '# nodes: end' block in the configuration")
    indent, body = nodes.group(1), nodes.group(2)
    first = re.search(r"^\s*server\s+\S+((?:\s+[a-z_]+=\S+?)*);", body, flags=re.MULTILINE)
    if not first:
        sys.exit("nginx-local-conf: no server line between the nodes markers")
    parameters = first.group(1)
    servers = "".join(f"{indent}server {node}{parameters};\n" for node in arguments.node)
    text = text[: nodes.start()] + f"{indent}# nodes: begin\n{servers}{indent}# nodes: end" + text[nodes.end():]

    # Workers run as the `user` only when the master is root; otherwise nginx ignores it with a warning.
    if os.geteuid() != 0:
        text = replace_once(text, r"^user\s+[^;]+;\n", "")
    text = replace_once(text, r"^error_log\s+[^;]+;", f"error_log {work}/error.log;")
    text = replace_once(text, r"^pid\s+[^;]+;", f"pid {work}/nginx.pid;")
    text = replace_once(text, r"^(\s*)access_log\s+\S+", rf"\1access_log {work}/access.log")
    text = replace_once(text, r"^(\s*)listen\s+80;", rf"\1listen {arguments.listen};")
    temporary = "".join(
        f"    {kind}_temp_path {work}/{kind}_temp;\n" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    text = replace_once(text, r"^http \{\n", "http {\n    # Temporary files in the work folder (Debian's are under /var/lib/nginx).\n" + temporary)
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
