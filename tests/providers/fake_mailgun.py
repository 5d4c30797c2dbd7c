#!/usr/bin/python3
"""A fake Mailgun API: POST /v3/{domain}/messages.mime and /v3/{domain}/messages, and
GET /v3/domains/{domain}, checked as https://documentation.mailgun.com/docs/mailgun/api-reference/
(Messages, Domains) describes them: HTTP basic auth as "api", multipart/form-data bodies."""

import base64
import email
import email.policy
import re
import time
import uuid

from fakecommon import ProviderHandler, options, serve

EMAIL = re.compile(r"[^@\s<>,]+@[^@\s<>,]+\.[^@\s<>,]+")


def parse_form(content_type, body):
    """multipart/form-data (RFC 7578) into [(name, filename, content_type, bytes)], parsed byte
    for byte (the parts' bodies are never re-encoded); None when the body is malformed."""
    m = re.search(r'boundary="?([^";]+)"?', content_type)
    if not m:
        return None
    delimiter = b"--" + m.group(1).encode()
    if not body.startswith(delimiter):
        return None
    chunks = body.split(b"\r\n" + delimiter)
    first = chunks[0][len(delimiter):]
    chunks = [first] + chunks[1:]
    if not chunks[-1].startswith(b"--"):
        return None  # no closing delimiter
    fields = []
    for chunk in chunks[:-1]:
        if not chunk.startswith(b"\r\n"):
            return None
        head, sep, data = chunk[2:].partition(b"\r\n\r\n")
        if not sep:
            return None
        headers = email.message_from_bytes(head + b"\r\n\r\n", policy=email.policy.HTTP)
        if headers.get_content_disposition() != "form-data":
            return None
        name = headers.get_param("name", header="content-disposition")
        if not name:
            return None
        filename = headers.get_filename()
        ctype = headers.get_content_type() if headers.get("Content-Type") else "text/plain"
        fields.append((name, filename, ctype, data))
    return fields


class Handler(ProviderHandler):
    def authorised(self):
        expected = "Basic " + base64.b64encode(("api:" + self.options.key).encode()).decode()
        if self.headers.get("Authorization") != expected:
            # Mailgun answers a bad key with a plain-text "Forbidden".
            self.answer(401, "Forbidden", content_type="text/plain")
            return False
        return True

    def rate_limit_body(self):
        return {"message": "Too many requests"}

    def server_error_body(self, status):
        return {"message": "Internal Server Error"}

    def reject_invalid(self):
        self.answer(400, {"message": "to parameter is not a valid address. please check documentation"})

    def do_GET(self):
        match = re.fullmatch(r"/v3/domains/([^/?]+)", self.path)
        if not match:
            return self.answer(404, {"message": "Not Found"})
        if not self.authorised():
            return
        if match.group(1) != self.options.domain:
            return self.answer(404, {"message": "Domain not found"})
        self.answer(200, {"domain": {"name": self.options.domain, "state": self.options.state,
                                     "type": "custom", "spam_action": "disabled",
                                     "created_at": "Thu, 13 Oct 2022 18:22:17 GMT"},
                          "receiving_dns_records": [], "sending_dns_records": []})

    def do_POST(self):
        body = self.read_body()
        match = re.fullmatch(r"/v3/([^/?]+)/(messages\.mime|messages)", self.path)
        if not match:
            return self.answer(404, {"message": "Not Found"})
        if not self.authorised():
            return
        if match.group(1) != self.options.domain:
            return self.answer(404, {"message": "Domain not found: %s" % match.group(1)})
        if body is None:
            return self.answer(411, {"message": "Length Required"})
        content_type = self.headers.get("Content-Type", "")
        if not content_type.startswith("multipart/form-data") or "boundary=" not in content_type:
            return self.answer(400, {"message": "Content-Type must be multipart/form-data"})
        fields = parse_form(content_type, body)
        if fields is None:
            return self.answer(400, {"message": "Invalid multipart/form-data body"})
        values = {}
        for name, filename, ctype, data in fields:
            values.setdefault(name, []).append((filename, ctype, data))
        recipients = [r for _, _, data in values.get("to", [])
                      for r in EMAIL.findall(data.decode("utf-8", "replace"))]
        if self.misbehave(recipients):
            return
        if not values.get("to"):
            return self.answer(400, {"message": "to parameter is missing"})
        for _, _, data in values["to"]:
            for item in data.decode().split(","):
                if not EMAIL.search(item):
                    return self.answer(400, {"message": "to parameter is not a valid address. "
                                                        "please check documentation"})
        if match.group(2) == "messages.mime":
            if not values.get("message"):
                return self.answer(400, {"message": "message parameter is missing"})
            filename, _, mime = values["message"][0]
            if filename is None:
                return self.answer(400, {"message": "message parameter must be a file"})
            parsed = email.message_from_bytes(mime, policy=email.policy.default)
            if not parsed.get("From") or parsed.defects:
                return self.answer(400, {"message": "'from' parameter is missing"})
        else:
            if not values.get("from"):
                return self.answer(400, {"message": "from parameter is missing"})
            if not values.get("subject"):
                return self.answer(400, {"message": "subject parameter is missing"})
            if not (values.get("text") or values.get("html") or values.get("template")):
                return self.answer(400, {"message": "Need at least one of 'text', 'html' or "
                                                    "'template' parameters specified"})
            for name in ("attachment", "inline"):
                for filename, _, _ in values.get(name, []):
                    if filename is None:
                        return self.answer(400, {"message": "%s must be a file" % name})
        self.answer(200, {"id": "<%d.%s@%s>" % (int(time.time()), uuid.uuid4().hex[:12],
                                                self.options.domain),
                          "message": "Queued. Thank you."})


if __name__ == "__main__":
    parser = options(__doc__)
    parser.add_argument("--key", required=True)
    parser.add_argument("--domain", required=True)
    parser.add_argument("--state", default="active")
    serve(Handler, parser.parse_args())
