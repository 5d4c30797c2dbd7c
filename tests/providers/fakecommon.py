"""Shared part of the fake provider APIs the tests run on 127.0.0.1.

Each fake checks every request as the provider's documentation says the provider does and answers
with the documented success and error bodies. A test makes a fake misbehave through the recipient
address's local part:
    fail-500@, fail-503@   a server error with the provider's body
    ratelimit@             HTTP 429 with Retry-After: 7
    slow@                  the answer comes after --slow seconds (for client timeouts)
    drop@                  the connection is closed without an answer
    invalid@               the provider's request validation error
The server prints "PORT n" once it listens (port 0: a free port) and serves until killed.
"""

import argparse
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Stats:
    lock = threading.Lock()
    requests = 0


class ProviderHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the real APIs
    server_version = "FakeProvider/1.0"
    # One write per answer and no Nagle delay: otherwise the header and body writes meet delayed
    # ACKs and every keep-alive request stalls for 40 ms on loopback.
    disable_nagle_algorithm = True
    options = None  # argparse namespace, set by serve()

    def log_message(self, fmt, *args):  # quiet unless --verbose
        if self.options.verbose:
            sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))

    # --- helpers -------------------------------------------------------------------------
    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().strip(), 16)
                if size == 0:
                    self.rfile.readline()
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        length = self.headers.get("Content-Length")
        if length is None:
            return None
        return self.rfile.read(int(length))

    def answer(self, status, body=b"", content_type="application/json", headers=None):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self._headers_buffer.append(b"\r\n")
        self._headers_buffer.append(body)
        self.flush_headers()
        with Stats.lock:
            Stats.requests += 1

    def misbehave(self, recipients):
        """Acts on a magic recipient; True when the request has been answered (or dropped)."""
        locals_ = {r.split("@")[0].lower() for r in recipients if isinstance(r, str)}
        if "drop" in locals_:
            self.close_connection = True
            self.connection.shutdown(2)
            return True
        if "slow" in locals_:
            time.sleep(self.options.slow)
        if "ratelimit" in locals_:
            self.answer(429, self.rate_limit_body(), headers={"Retry-After": "7"})
            return True
        for status in (500, 503):
            if "fail-%d" % status in locals_:
                self.answer(status, self.server_error_body(status))
                return True
        if "invalid" in locals_:
            self.reject_invalid()
            return True
        return False

    # --- per provider -----------------------------------------------------------------------
    def rate_limit_body(self):
        return {"message": "Too many requests"}

    def server_error_body(self, status):
        return {"message": "Internal error"}

    def reject_invalid(self):
        self.answer(400, {"message": "invalid request"})


def options(description):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--slow", type=float, default=5.0)
    parser.add_argument("--verbose", action="store_true")
    return parser


def serve(handler, opts):
    handler.options = opts
    server = ThreadingHTTPServer(("127.0.0.1", opts.port), handler)
    server.daemon_threads = True
    print("PORT %d" % server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
