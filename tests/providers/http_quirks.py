#!/usr/bin/python3
"""An HTTP/1.1 server on 127.0.0.1 that answers in the ways real servers may and a client must
cope with, for tst_httpclient. Written on raw sockets so that every byte and every close is
under control. The path decides:
    /plain            200 with Content-Length; keep-alive
    /echo             200, a JSON description of the request (method, Host, body, ...)
    /chunked          200 in chunks (with an extension and a trailer), each sent on its own
    /split            200 written in small pieces with pauses: status line, headers and body
                      each arrive across several reads
    /continue         100 Continue, then 200
    /close            200 with "Connection: close", then the connection is closed
    /until-close      200 without Content-Length: the body ends with the connection
    /close-idle       200, then the server closes the connection once it is idle for 0.1 s
    /stale            200; the next request on this connection is read and the connection closed
                      without an answer (a server closing an idle connection as a request arrives)
    /partial          part of a status line, then the connection is closed
    /drop             the request is read and the connection closed without an answer
    /slow             200 after --slow seconds
    /stats            JSON: connections accepted and requests per path
Every answer but /stats' carries X-Connection (the connection's number, from 1) and
X-Request (the request's number on that connection). With --tls-cert and --tls-key every
connection is TLS (HTTPS). Prints "PORT n" once it listens.
"""

import argparse
import json
import socket
import ssl
import sys
import threading
import time

lock = threading.Lock()
connections = 0
requests = {}


def read_request(conn, buffered):
    """Reads one request; returns (method, path, headers, body, rest) or None at EOF."""
    data = buffered
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, data = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        name, value = line.split(":", 1)
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(data) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    return method, target, headers, data[:length], data[length:]


def response(status, reason, body, extra=()):
    head = "HTTP/1.1 %d %s\r\n" % (status, reason)
    for name, value in extra:
        head += "%s: %s\r\n" % (name, value)
    head += "Content-Length: %d\r\n\r\n" % len(body)
    return head.encode() + body


def serve_connection(conn, number, slow):
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    buffered = b""
    served = 0
    doomed = False
    idle_close = False
    try:
        while True:
            if idle_close:
                conn.settimeout(0.1)
            try:
                request = read_request(conn, buffered)
            except socket.timeout:
                return
            conn.settimeout(None)
            if request is None:
                return
            method, target, headers, body, buffered = request
            path = target.split("?", 1)[0]
            served += 1
            with lock:
                requests[path] = requests.get(path, 0) + 1
            if doomed:
                return
            ids = (("X-Connection", str(number)), ("X-Request", str(served)))
            if path == "/plain":
                conn.sendall(response(200, "OK", b'{"ok":true}', ids))
            elif path == "/echo":
                described = {"method": method, "target": target, "host": headers.get("host"),
                             "contentType": headers.get("content-type"),
                             "contentLength": headers.get("content-length"),
                             "userAgent": headers.get("user-agent"),
                             "body": body.decode("utf-8")}
                conn.sendall(response(200, "OK", json.dumps(described).encode(), ids))
            elif path == "/chunked":
                head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                head += "".join("%s: %s\r\n" % item for item in ids) + "\r\n"
                conn.sendall(head.encode())
                for piece in (b"first,", b"second;", b"x" * 300):
                    time.sleep(0.02)
                    conn.sendall(b"%x;ext=1\r\n%s\r\n" % (len(piece), piece))
                time.sleep(0.02)
                conn.sendall(b"0\r\nX-Trailer: yes\r\n\r\n")
            elif path == "/split":
                whole = response(200, "Fine", b'{"split":"across reads"}',
                                 ids + (("X-Split", "yes"),))
                for start in range(0, len(whole), 7):
                    conn.sendall(whole[start:start + 7])
                    time.sleep(0.005)
            elif path == "/continue":
                conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
                time.sleep(0.02)
                conn.sendall(response(200, "OK", b"after continue", ids))
            elif path == "/close":
                conn.sendall(response(200, "OK", b"closing", ids + (("Connection", "close"),)))
                return
            elif path == "/until-close":
                head = "HTTP/1.1 200 OK\r\n" + "".join("%s: %s\r\n" % item for item in ids)
                conn.sendall(head.encode() + b"\r\nno length, ")
                time.sleep(0.02)
                conn.sendall(b"ends at the close")
                return
            elif path == "/close-idle":
                conn.sendall(response(200, "OK", b"idle soon", ids))
                idle_close = True
            elif path == "/stale":
                conn.sendall(response(200, "OK", b"stale next", ids))
                doomed = True
            elif path == "/partial":
                conn.sendall(b"HTTP/1.1 20")
                time.sleep(0.02)
                return
            elif path == "/drop":
                return
            elif path == "/slow":
                time.sleep(slow)
                conn.sendall(response(200, "OK", b"late", ids))
            elif path == "/stats":
                with lock:
                    stats = {"connections": connections, "requests": dict(requests)}
                conn.sendall(response(200, "OK", json.dumps(stats).encode()))
            else:
                conn.sendall(response(404, "Not Found", b"no such path", ids))
    except OSError:
        pass
    finally:
        try:
            conn.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        conn.close()


def serve_tls(context, conn, slow):
    global connections
    try:
        conn = context.wrap_socket(conn, server_side=True)
    except (OSError, ssl.SSLError):
        conn.close()  # the client refused the certificate, as it should when it cannot verify it
        return
    with lock:
        connections += 1
        number = connections
    serve_connection(conn, number, slow)


def main():
    global connections
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--slow", type=float, default=3.0)
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    options = parser.parse_args()
    context = None
    if options.tls_cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(options.tls_cert, options.tls_key)
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    print("PORT %d" % server.getsockname()[1], flush=True)
    try:
        while True:
            conn, _ = server.accept()
            if context:
                threading.Thread(target=serve_tls, args=(context, conn, options.slow),
                                 daemon=True).start()
                continue
            with lock:
                connections += 1
                number = connections
            threading.Thread(target=serve_connection, args=(conn, number, options.slow),
                             daemon=True).start()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
