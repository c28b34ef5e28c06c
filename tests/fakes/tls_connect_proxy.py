#!/usr/bin/env python3
"""An HTTPS proxy that terminates TLS for AWS host names and forwards plain HTTP to a fake.

The Go docker-credential-ecr-login has no endpoint override: it always calls
https://api.ecr.<region>.amazonaws.com/. Run it with HTTPS_PROXY pointing here and AWS_CA_BUNDLE
at the test CA: each CONNECT is answered 200, the client's TLS is terminated with a leaf
certificate of that CA, and the decrypted bytes are piped to the upstream fake on 127.0.0.1.
Standard library only. Stops when its parent closes stdin (or on SIGTERM).

usage: tls_connect_proxy.py --listen PORT --upstream PORT --cert LEAF.pem --key LEAF.key [--direct]

With --direct it is a plain TLS front for the fake instead (no CONNECT): the endpoint
https://127.0.0.1:PORT, to prove a client's own TLS stack.
"""
import argparse
import select
import socket
import ssl
import sys
import threading


def pipe(a, b):
    try:
        while True:
            readable, _, _ = select.select([a, b], [], [], 60)
            if not readable:
                return
            for s in readable:
                data = s.recv(65536)
                if not data:
                    return
                (b if s is a else a).sendall(data)
    except OSError:
        pass
    finally:
        for s in (a, b):
            try:
                s.close()
            except OSError:
                pass


def handle(conn, ctx, upstream, direct):
    try:
        if direct:
            tls = ctx.wrap_socket(conn, server_side=True)
            up = socket.create_connection(("127.0.0.1", upstream), timeout=10)
            pipe(tls, up)
            return
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = conn.recv(4096)
            if not chunk:
                conn.close()
                return
            head += chunk
        if not head.startswith(b"CONNECT "):
            conn.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            conn.close()
            return
        conn.sendall(b"HTTP/1.1 200 Connection Established\r\n\r\n")
        tls = ctx.wrap_socket(conn, server_side=True)
        up = socket.create_connection(("127.0.0.1", upstream), timeout=10)
        pipe(tls, up)
    except (OSError, ssl.SSLError):
        try:
            conn.close()
        except OSError:
            pass


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--listen", type=int, required=True)
    p.add_argument("--upstream", type=int, required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--direct", action="store_true")
    a = p.parse_args()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", a.listen))
    srv.listen(64)
    # The parent holds our stdin; when it goes away, so do we.
    threading.Thread(target=lambda: (sys.stdin.read(), srv.close()), daemon=True).start()
    print("ready", flush=True)
    while True:
        try:
            conn, _ = srv.accept()
        except OSError:
            return
        threading.Thread(target=handle, args=(conn, ctx, a.upstream, a.direct), daemon=True).start()


if __name__ == "__main__":
    main()
