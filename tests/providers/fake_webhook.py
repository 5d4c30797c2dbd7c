#!/usr/bin/python3
"""A fake JSON webhook for the custom HTTP transport: POST with application/json, the configured
headers required (--require-header Name:Value, repeatable), the body valid JSON with the
--require-field names present."""

import json
import uuid

from fakecommon import ProviderHandler, options, serve


class Handler(ProviderHandler):
    def do_POST(self):
        body = self.read_body()
        for header in self.options.require_header:
            name, _, value = header.partition(":")
            if self.headers.get(name.strip()) != value.strip():
                return self.answer(401, {"error": "missing or wrong %s header" % name})
        if self.headers.get("Content-Type", "").split(";")[0].strip() != "application/json":
            return self.answer(415, {"error": "Content-Type must be application/json"})
        try:
            doc = json.loads(body or b"")
        except ValueError:
            return self.answer(400, {"error": "body is not JSON"})
        recipients = doc.get("to", []) if isinstance(doc, dict) else []
        if isinstance(recipients, str):
            recipients = recipients.split(",")
        if self.misbehave(recipients):
            return
        for field in self.options.require_field:
            if not isinstance(doc, dict) or field not in doc:
                return self.answer(400, {"error": "field %s is missing" % field})
        self.answer(200, {"id": str(uuid.uuid4()), "echo": doc})

    def do_OPTIONS(self):
        self.answer(204, b"", headers={"Allow": "POST, OPTIONS"})


if __name__ == "__main__":
    parser = options(__doc__)
    parser.add_argument("--require-header", action="append", default=[])
    parser.add_argument("--require-field", action="append", default=[])
    serve(Handler, parser.parse_args())
