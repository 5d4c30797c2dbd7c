#!/usr/bin/python3
"""A scriptable SMTP server for the failure tests, on 127.0.0.1 and a free port.

It speaks just enough SMTP (RFC 5321, STARTTLS, AUTH PLAIN/LOGIN, PIPELINING) and misbehaves on
request: a chosen reply code at a chosen stage, a slow reply, a dropped connection in the middle
of DATA, STARTTLS removed from the capabilities, plain-text replies injected after STARTTLS,
refused recipients, a connection closed without notice after some messages.

Prints "PORT <n>" once it listens. Writes to --out: session-<n>.log (every line the client sent,
AUTH secrets included) and for each message it accepts <n>.eml (without dot-stuffing) and <n>.json
(mail_from, rcpt_tos, mail_options, session).
"""
import argparse
import asyncio
import base64
import json
import os
import ssl
import sys

STAGES = ["greeting", "ehlo", "starttls", "auth", "mail", "rcpt", "data", "eom", "rset"]


class Session:
    counter = 0
    messages = 0

    def __init__(self, args, reader, writer):
        Session.counter += 1
        self.id = Session.counter
        self.a = args
        self.reader = reader
        self.writer = writer
        self.tls = False
        self.log = open(os.path.join(args.out, "session-%d.log" % self.id), "w")
        self.sent_in_session = 0

    def record(self, line):
        self.log.write(line + "\n")
        self.log.flush()

    async def reply(self, text):
        self.writer.write(text.encode() + b"\r\n")
        await self.writer.drain()

    async def maybe_slow(self, stage):
        if self.a.slow == stage:
            await asyncio.sleep(self.a.delay)

    def failing(self, stage):
        return self.a.fail_at == stage and (self.a.fail_session == 0
                                            or self.a.fail_session == self.id)

    def code_reply(self, default_text):
        code = self.a.code
        enhanced = "%d.0.0 " % (code // 100) if code >= 400 else ""
        return "%d %s%s" % (code, enhanced, self.a.text or default_text)

    async def readline(self):
        line = await self.reader.readline()
        if not line:
            raise ConnectionError("client closed")
        text = line.decode("utf-8", "replace").rstrip("\r\n")
        self.record(text)
        return text

    def capabilities(self):
        caps = ["SIZE %d" % self.a.size if self.a.size else "SIZE", "ENHANCEDSTATUSCODES"]
        if not self.a.no_8bitmime:
            caps.append("8BITMIME")
        if not self.a.no_smtputf8:
            caps.append("SMTPUTF8")
        if self.a.pipelining:
            caps.append("PIPELINING")
        if self.a.starttls and not self.tls and not self.a.strip_starttls:
            caps.append("STARTTLS")
        if self.a.auth and (self.tls or not self.a.starttls or self.a.strip_starttls):
            caps.append("AUTH PLAIN LOGIN XOAUTH2" if self.a.xoauth2 else "AUTH PLAIN LOGIN")
        return caps

    async def run(self):
        await self.maybe_slow("greeting")
        if self.failing("greeting"):
            await self.reply(self.code_reply("Service not available"))
            return
        await self.reply("220 misbehaving.test ESMTP ready")
        transaction = None
        while True:
            line = await self.readline()
            verb = line.split(" ", 1)[0].upper()
            if verb == "HELO":
                await self.reply("250 misbehaving.test")
            elif verb == "EHLO":
                if self.failing("ehlo"):
                    await self.reply(self.code_reply("EHLO not accepted"))
                    if self.a.code == 421:
                        return
                    continue
                caps = self.capabilities()
                lines = ["misbehaving.test greets you"] + caps
                out = ["250-" + l for l in lines[:-1]] + ["250 " + lines[-1]]
                await self.reply("\r\n".join(out))
            elif verb == "STARTTLS":
                if self.failing("starttls"):
                    await self.reply(self.code_reply("TLS not available now"))
                    continue
                extra = ""
                if self.a.inject_after_starttls:
                    # Plain text the client must not take as replies to what it sends after TLS.
                    extra = "\r\n250-injected.test\r\n250 AUTH CRAM-MD5"
                await self.reply("220 2.0.0 Ready to start TLS" + extra)
                ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
                ctx.load_cert_chain(self.a.cert, self.a.key)
                await self.writer.start_tls(ctx)
                self.tls = True
            elif verb == "AUTH":
                await self.auth(line)
            elif verb == "MAIL":
                await self.maybe_slow("mail")
                if self.failing("mail"):
                    await self.reply(self.code_reply("Sender refused"))
                    continue
                transaction = {"mail_from": line[10:].split(">", 1)[0].lstrip("<"),
                               "mail_options": line.split(">", 1)[1].split(),
                               "rcpt_tos": [], "session": self.id}
                await self.reply("250 2.1.0 Ok")
            elif verb == "RCPT":
                address = line[8:].split(">", 1)[0].lstrip("<")
                if transaction is None:
                    await self.reply("503 5.5.1 Need MAIL first")
                elif self.failing("rcpt") or (self.a.reject_rcpt and self.a.reject_rcpt in address):
                    await self.reply(self.code_reply("<%s>: Recipient address rejected" % address))
                else:
                    transaction["rcpt_tos"].append(address)
                    await self.reply("250 2.1.5 Ok")
            elif verb == "DATA":
                if transaction is None or not transaction["rcpt_tos"]:
                    await self.reply("554 5.5.1 No valid recipients")
                    continue
                if self.failing("data"):
                    await self.reply(self.code_reply("Not now"))
                    continue
                await self.reply("354 End data with <CR><LF>.<CR><LF>")
                body = await self.read_data()
                if body is None:
                    return
                await self.maybe_slow("eom")
                if self.failing("eom"):
                    await self.reply(self.code_reply("Message refused"))
                    transaction = None
                    continue
                Session.messages += 1
                n = Session.messages
                with open(os.path.join(self.a.out, "%d.eml" % n), "wb") as f:
                    f.write(body)
                with open(os.path.join(self.a.out, "%d.json" % n), "w") as f:
                    json.dump(transaction, f)
                transaction = None
                self.sent_in_session += 1
                await self.reply("250 2.0.0 Ok: queued as MB%04d" % n)
                if self.a.close_after and self.sent_in_session >= self.a.close_after:
                    return  # without notice, as a server dropping an idle connection does
            elif verb == "RSET":
                transaction = None
                if self.failing("rset"):
                    await self.reply(self.code_reply("RSET refused"))
                    continue
                await self.reply("250 2.0.0 Ok")
            elif verb == "NOOP":
                await self.reply("250 2.0.0 Ok")
            elif verb == "QUIT":
                await self.reply("221 2.0.0 Bye")
                return
            else:
                await self.reply("502 5.5.2 Command not recognised")

    async def read_data(self):
        chunks = []
        received = 0
        while True:
            line = await self.reader.readline()
            if not line:
                raise ConnectionError("client closed during DATA")
            if line == b".\r\n":
                return b"".join(chunks)
            if line.startswith(b"."):
                line = line[1:]
            chunks.append(line)
            received += len(line)
            if self.a.drop_mid_data and received > 200:
                self.record("-- dropped during DATA after %d bytes" % received)
                return None

    async def auth(self, line):
        parts = line.split()
        mechanism = parts[1].upper() if len(parts) > 1 else ""
        user = password = None
        if mechanism == "PLAIN":
            data = parts[2] if len(parts) > 2 else None
            if data is None:
                await self.reply("334 ")
                data = await self.readline()
            fields = base64.b64decode(data).split(b"\0")
            user, password = fields[1].decode(), fields[2].decode()
        elif mechanism == "LOGIN":
            await self.reply("334 VXNlcm5hbWU6")
            user = base64.b64decode(await self.readline()).decode()
            await self.reply("334 UGFzc3dvcmQ6")
            password = base64.b64decode(await self.readline()).decode()
        elif mechanism == "XOAUTH2" and self.a.xoauth2:
            # https://developers.google.com/gmail/imap/xoauth2-protocol
            fields = base64.b64decode(parts[2]).split(b"\x01")
            user = fields[0].decode().removeprefix("user=")
            token = fields[1].decode().removeprefix("auth=Bearer ")
            if self.a.auth != "%s:%s" % (user, token):
                error = b'{"status":"401","schemes":"Bearer","scope":"https://mail.example/"}'
                await self.reply("334 " + base64.b64encode(error).decode())
                await self.readline()  # the client's empty response
                await self.reply("535 5.7.8 Username and Password not accepted")
                return
            await self.reply("235 2.7.0 Accepted")
            return
        else:
            await self.reply("504 5.5.4 Unrecognized authentication type")
            return
        if self.failing("auth"):
            await self.reply(self.code_reply("Authentication failed"))
        elif self.a.auth == "%s:%s" % (user, password):
            await self.reply("235 2.7.0 Authentication successful")
        else:
            await self.reply("535 5.7.8 Error: authentication failed")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--out", required=True)
    p.add_argument("--fail-at", choices=STAGES)
    p.add_argument("--fail-session", type=int, default=0, help="only in this session (1-based)")
    p.add_argument("--code", type=int, default=554)
    p.add_argument("--text")
    p.add_argument("--slow", choices=["greeting", "mail", "eom"])
    p.add_argument("--delay", type=float, default=5.0)
    p.add_argument("--drop-mid-data", action="store_true")
    p.add_argument("--starttls", action="store_true")
    p.add_argument("--strip-starttls", action="store_true")
    p.add_argument("--inject-after-starttls", action="store_true")
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--auth", help="USER:PASSWORD")
    p.add_argument("--pipelining", action="store_true")
    p.add_argument("--reject-rcpt")
    p.add_argument("--close-after", type=int, default=0)
    p.add_argument("--size", type=int, default=0)
    p.add_argument("--no-8bitmime", action="store_true")
    p.add_argument("--no-smtputf8", action="store_true")
    p.add_argument("--xoauth2", action="store_true", help="offer AUTH XOAUTH2 (token = password)")
    a = p.parse_args()

    async def handle(reader, writer):
        session = Session(a, reader, writer)
        try:
            await session.run()
        except (ConnectionError, ssl.SSLError, asyncio.IncompleteReadError) as e:
            session.record("-- %s" % e)
        finally:
            session.log.close()
            writer.close()

    async def serve():
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        print("PORT %d" % server.sockets[0].getsockname()[1], flush=True)
        loop = asyncio.get_running_loop()
        stop = loop.create_future()
        loop.add_reader(sys.stdin.fileno(),
                        lambda: sys.stdin.buffer.read1(4096) or stop.done() or stop.set_result(None))
        await stop

    asyncio.run(serve())


if __name__ == "__main__":
    main()
