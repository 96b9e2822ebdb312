#!/usr/bin/env python3
"""Measures what idle chat sockets cost a running chat-server, and what it gives back after.

    scripts/measure-socket-memory.py --server http://127.0.0.1:8000 --pid <chat-server pid> --sockets 3000

Signs up two friends (the server should run with RATE_LIMITS=off or a registration allowance of
two), opens N authenticated sockets on their chat (raw WebSocket handshakes: idle sockets need no
frames; 1000 per loopback source address, under the server's per-address cap), and prints the server's resident memory (VmRSS) before, with the sockets open, and at
intervals after they close. Standard library only; loopback only.
"""
import argparse
import asyncio
import json
import time
import urllib.request
import uuid


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def call(base, method, path, body=None, token=None):
    request = urllib.request.Request(base + path, method=method, data=json.dumps(body).encode() if body is not None else None)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Token {token}")
    with urllib.request.urlopen(request, timeout=30) as response:
        text = response.read()
        return json.loads(text) if text else None


def set_up_chat(base):
    run = uuid.uuid4().hex[:8]
    password = "Measure-sockets-2026"
    tokens = []
    for name in ("a", "b"):
        email = f"mem-{name}-{run}@example.com"
        tokens.append(call(base, "POST", "/api/rest-auth/registration/", {"email": email, "password1": password, "password2": password})["key"])
    b_uuid = call(base, "GET", "/api/user/currentuser/", token=tokens[1])["uuid"]
    call(base, "POST", "/api/user/friends/", {"user_uuid": b_uuid}, token=tokens[0])
    invitation = call(base, "GET", "/api/user/invitations/", token=tokens[1])[0]
    chat = call(base, "POST", "/api/user/invitations/", {"contact_id": invitation["id"], "decision": True}, token=tokens[1])
    return chat["uuid"], tokens[0]


async def open_socket(host, port, chat, token, index):
    # The server admits 1024 connections per client address: spread them over 127.0.0.2, .3, ...
    source = f"127.0.0.{2 + index // 1000}"
    reader, writer = await asyncio.open_connection(host, port, local_addr=(source, 0))
    writer.write((
        f"GET /ws/chat/{chat}/?token={token} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    ).encode())
    head = await reader.readuntil(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 101"):
        raise RuntimeError(head.decode(errors="replace"))
    return writer


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", default="http://127.0.0.1:8000")
    parser.add_argument("--pid", type=int, required=True)
    parser.add_argument("--sockets", type=int, default=3000)
    parser.add_argument("--settle", type=float, default=12, help="seconds to wait after closing")
    options = parser.parse_args()
    host, port = options.server.split("//")[1].split(":")
    chat, token = set_up_chat(options.server)

    before = rss_kib(options.pid)
    writers = []
    for start in range(0, options.sockets, 200):
        batch = [open_socket(host, int(port), chat, token, start + i) for i in range(min(200, options.sockets - start))]
        writers += await asyncio.gather(*batch)
    await asyncio.sleep(2)
    opened = rss_kib(options.pid)
    for writer in writers:
        writer.close()
    await asyncio.gather(*(writer.wait_closed() for writer in writers), return_exceptions=True)
    after = []
    started = time.monotonic()
    while time.monotonic() - started < options.settle:
        await asyncio.sleep(2)
        after.append(rss_kib(options.pid))
    per_socket = (opened - before) / options.sockets
    print(f"sockets {options.sockets}: RSS before {before / 1024:.1f} MiB, open {opened / 1024:.1f} MiB "
          f"({per_socket:.1f} KiB per socket), after closing {', '.join(f'{a / 1024:.1f}' for a in after)} MiB "
          f"(last is {100 * (after[-1] - before) / before:+.0f}% of the start)")


asyncio.run(main())
