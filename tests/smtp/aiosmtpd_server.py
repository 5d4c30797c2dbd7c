#!/usr/bin/python3
"""A real SMTP server for the tests: aiosmtpd on 127.0.0.1, on a free port.

Prints "PORT <n>" once it listens, then serves until stdin closes or it is killed. Each message it
accepts is written to --out as <n>.eml (the bytes received, without dot-stuffing) and <n>.json (the
envelope: mail_from, rcpt_tos, mail_options, rcpt_options, authenticated user, tls).
"""
import argparse
import asyncio
import json
import os
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Recorder:
    def __init__(self, out, reject, tempfail=None):
        self.out = out
        self.reject = reject
        self.tempfail = tempfail
        self.count = 0
        self.logins = {}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.reject and self.reject in address:
            return "550 5.1.1 <%s>: Recipient address rejected: User unknown" % address
        if self.tempfail and self.tempfail in address:
            return "450 4.2.1 <%s>: Mailbox busy, try again later" % address
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        base = os.path.join(self.out, "%d" % self.count)
        with open(base + ".eml", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        login = self.logins.get(id(session))
        with open(base + ".json", "w") as f:
            json.dump({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
                       "mail_options": envelope.mail_options, "rcpt_options": envelope.rcpt_options,
                       "login": login,
                       "tls": server.transport.get_extra_info("ssl_object") is not None}, f)
        return "250 2.0.0 Ok: queued as AIO%04d" % self.count


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--tls", choices=["none", "starttls", "implicit"], default="none")
    p.add_argument("--require-tls", action="store_true", help="refuse MAIL before STARTTLS")
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--auth", help="USER:PASSWORD; offers AUTH PLAIN and LOGIN")
    p.add_argument("--out", required=True)
    p.add_argument("--reject-rcpt", help="refuse recipients that contain this text")
    p.add_argument("--tempfail-rcpt", help="answer 450 to recipients that contain this text")
    p.add_argument("--port", type=int, default=0, help="listen on this port (default: a free one)")
    p.add_argument("--size", type=int, default=33554432)
    a = p.parse_args()

    ctx = None
    if a.tls != "none":
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(a.cert, a.key)

    user = password = None
    if a.auth:
        user, password = a.auth.split(":", 1)

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user
              and auth_data.password.decode() == password)
        if ok:
            handler.logins[id(session)] = user
        return AuthResult(success=ok, handled=False)

    handler = Recorder(a.out, a.reject_rcpt, a.tempfail_rcpt)

    def factory():
        kwargs = dict(enable_SMTPUTF8=True, decode_data=False, hostname="aiosmtpd.test",
                      data_size_limit=a.size, timeout=60)
        if a.tls == "starttls":
            kwargs.update(tls_context=ctx, require_starttls=a.require_tls)
        if a.auth:
            kwargs.update(authenticator=authenticator, auth_required=True,
                          auth_require_tls=a.tls == "starttls")
        return SMTP(handler, **kwargs)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = loop.run_until_complete(loop.create_server(
        factory, host="127.0.0.1", port=a.port, ssl=ctx if a.tls == "implicit" else None))
    print("PORT %d" % server.sockets[0].getsockname()[1], flush=True)
    loop.add_reader(sys.stdin.fileno(), lambda: sys.stdin.buffer.read1(4096) or loop.stop())
    try:
        loop.run_forever()
    finally:
        server.close()


if __name__ == "__main__":
    main()
