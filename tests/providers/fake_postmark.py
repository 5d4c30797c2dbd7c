#!/usr/bin/python3
"""A fake Postmark API: POST /email and GET /server, checked as
https://postmarkapp.com/developer/api/email-api and .../server-api describe them."""

import base64
import binascii
import json
import re
import uuid
from datetime import datetime, timezone

from fakecommon import ProviderHandler, options, serve

EMAIL = re.compile(r"[^@\s<>,\"]+@[^@\s<>,\"]+\.[^@\s<>,\"]+")


def addresses(value):
    return EMAIL.findall(value or "")


class Handler(ProviderHandler):
    def check_headers(self, needs_body):
        if self.headers.get("Accept", "").split(";")[0].strip() != "application/json":
            self.answer(406, {"ErrorCode": 0, "Message": "The 'Accept' header must be application/json."})
            return False
        if needs_body and self.headers.get("Content-Type", "").split(";")[0].strip() != "application/json":
            self.answer(415, {"ErrorCode": 0, "Message": "The 'Content-Type' header must be application/json."})
            return False
        if self.headers.get("X-Postmark-Server-Token") != self.options.token:
            self.answer(401, {"ErrorCode": 10, "Message": "The Server Token you provided in the "
                              "X-Postmark-Server-Token request header was invalid. Please verify "
                              "that you are using a valid token."})
            return False
        return True

    def rate_limit_body(self):
        return {"ErrorCode": 429, "Message": "Rate limit exceeded."}

    def server_error_body(self, status):
        return {"ErrorCode": 0, "Message": "Internal server error."}

    def reject_invalid(self):
        self.invalid("Error parsing 'To': Illegal email address 'invalid'. It must contain the '@' symbol.")

    def invalid(self, message, code=300):
        self.answer(422, {"ErrorCode": code, "Message": message})

    def do_GET(self):
        if self.path != "/server":
            return self.answer(404, {"ErrorCode": 0, "Message": "Not found"})
        if self.check_headers(False):
            self.answer(200, {"ID": 1, "Name": self.options.server, "ApiTokens": [self.options.token],
                              "Color": "red", "SmtpApiActivated": True, "RawEmailEnabled": False,
                              "DeliveryType": "Live", "TrackOpens": False, "TrackLinks": "None"})

    def do_POST(self):
        body = self.read_body()
        if self.path != "/email":
            return self.answer(404, {"ErrorCode": 0, "Message": "Not found"})
        if not self.check_headers(True):
            return
        try:
            mail = json.loads(body or b"")
            assert isinstance(mail, dict)
        except (ValueError, AssertionError):
            return self.invalid("The request body is not valid JSON.", 402)
        recipients = addresses(mail.get("To")) + addresses(mail.get("Cc")) + addresses(mail.get("Bcc"))
        if self.misbehave(recipients):
            return
        problem = self.validate(mail)
        if problem:
            return self.invalid(*problem)
        self.answer(200, {"To": mail["To"],
                          "SubmittedAt": datetime.now(timezone.utc).isoformat(),
                          "MessageID": str(uuid.uuid4()), "ErrorCode": 0, "Message": "OK"})

    def validate(self, mail):
        known = {"From", "To", "Cc", "Bcc", "Subject", "Tag", "HtmlBody", "TextBody", "ReplyTo",
                 "Metadata", "Headers", "TrackOpens", "TrackLinks", "Attachments", "MessageStream"}
        for key in mail:
            if key not in known:
                return ("Unknown field '%s'." % key, 300)
        if not addresses(mail.get("From")):
            return ("Invalid 'From' address: '%s'." % mail.get("From", ""), 300)
        if not mail.get("To"):
            return ("Zero recipients specified", 300)
        for field in ("To", "Cc", "Bcc", "ReplyTo"):
            value = mail.get(field)
            if value is None:
                continue
            for item in value.split(","):
                if item.strip() and not EMAIL.search(item):
                    return ("Error parsing '%s': Illegal email address '%s'." % (field, item.strip()), 300)
        count = sum(len(addresses(mail.get(f))) for f in ("To", "Cc", "Bcc"))
        if count > 50:
            return ("Maximum of 50 recipients allowed per message.", 300)
        if not mail.get("TextBody") and not mail.get("HtmlBody"):
            return ("Provide either email TextBody or HtmlBody or both.", 300)
        if "Tag" in mail and (not isinstance(mail["Tag"], str) or len(mail["Tag"]) > 1000):
            return ("Tag must be a string of at most 1000 characters.", 300)
        for key, value in (mail.get("Metadata") or {}).items():
            if not isinstance(value, str) or len(key) > 20 or len(value) > 80:
                return ("Invalid metadata field '%s'." % key, 300)
        for header in mail.get("Headers") or []:
            if set(header) != {"Name", "Value"}:
                return ("Headers must be objects with Name and Value.", 300)
        for a in mail.get("Attachments") or []:
            if not a.get("Name") or not a.get("ContentType") or not a.get("Content"):
                return ("Attachments need Name, Content and ContentType.", 300)
            try:
                base64.b64decode(a["Content"], validate=True)
            except (binascii.Error, ValueError):
                return ("Attachment content is not valid base64.", 300)
            if "ContentID" in a and not a["ContentID"].startswith("cid:"):
                return ("ContentID must start with 'cid:'.", 300)
        if mail.get("MessageStream", "outbound") not in self.options.streams.split(","):
            return ("The 'MessageStream' provided does not exist on this server.", 1235)
        return None


if __name__ == "__main__":
    parser = options(__doc__)
    parser.add_argument("--token", required=True)
    parser.add_argument("--server", default="Postdesk Test")
    parser.add_argument("--streams", default="outbound,broadcast")
    serve(Handler, parser.parse_args())
