#!/usr/bin/python3
"""A fake SendGrid v3 API: POST /v3/mail/send and GET /v3/scopes, checked as
https://www.twilio.com/docs/sendgrid/api-reference/mail-send/mail-send describes them."""

import base64
import binascii
import json
import re
import uuid

from fakecommon import ProviderHandler, options, serve

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Headers the Mail Send API refuses in "headers" (its reserved list).
RESERVED = {"x-sg-id", "x-sg-eid", "received", "dkim-signature", "content-type",
            "content-transfer-encoding", "to", "from", "subject", "reply-to", "cc", "bcc"}


def error(message, field=None, help_=None):
    return {"errors": [{"message": message, "field": field, "help": help_}]}


class Handler(ProviderHandler):
    def authorised(self):
        if self.headers.get("Authorization") != "Bearer " + self.options.key:
            self.answer(401, error("The provided authorization grant is invalid, expired, or revoked"))
            return False
        return True

    def do_GET(self):
        if self.path != "/v3/scopes":
            return self.answer(404, error("resource not found"))
        if self.authorised():
            self.answer(200, {"scopes": self.options.scopes.split(",")})

    def rate_limit_body(self):
        return error("too many requests")

    def server_error_body(self, status):
        return error("Internal server error" if status == 500 else "Service unavailable")

    def reject_invalid(self):
        self.answer(400, error("Does not contain a valid address.",
                               "personalizations.0.to.0.email"))

    def do_POST(self):
        body = self.read_body()
        if self.path != "/v3/mail/send":
            return self.answer(404, error("resource not found"))
        if not self.authorised():
            return
        if body is None:
            return self.answer(411, error("Length Required"))
        if self.headers.get("Content-Type", "").split(";")[0].strip() != "application/json":
            return self.answer(415, error("Content-Type should be application/json."))
        try:
            mail = json.loads(body)
        except ValueError:
            return self.answer(400, error("Bad Request", None))
        recipients = [a.get("email") for p in mail.get("personalizations", [])
                      for kind in ("to", "cc", "bcc") for a in p.get(kind, []) if isinstance(a, dict)]
        if self.misbehave(recipients):
            return
        problem = self.validate(mail)
        if problem:
            return self.answer(400, error(*problem))
        self.answer(202, b"", content_type="text/plain",
                    headers={"X-Message-Id": uuid.uuid4().hex[:22]})

    def validate(self, mail):
        if not isinstance(mail, dict):
            return ("Bad Request", None)
        known = {"personalizations", "from", "reply_to", "reply_to_list", "subject", "content",
                 "attachments", "template_id", "headers", "categories", "custom_args", "send_at",
                 "batch_id", "asm", "ip_pool_name", "mail_settings", "tracking_settings"}
        for key in mail:
            if key not in known:
                return ("Invalid field", key)
        ps = mail.get("personalizations")
        if not isinstance(ps, list) or not 1 <= len(ps) <= 1000:
            return ("The personalizations field is required and must have at least one personalization.",
                    "personalizations")
        total = 0
        for i, p in enumerate(ps):
            if not isinstance(p.get("to"), list) or not p["to"]:
                return ("The to array is required for all personalization objects, and must have "
                        "at least one email object with a valid email address.",
                        "personalizations.%d.to" % i)
            seen = set()
            for kind in ("to", "cc", "bcc"):
                if kind in p and (not isinstance(p[kind], list) or not p[kind]):
                    return ("The %s array must have at least one email object." % kind,
                            "personalizations.%d.%s" % (i, kind))
                for j, a in enumerate(p.get(kind, [])):
                    field = "personalizations.%d.%s.%d.email" % (i, kind, j)
                    if not isinstance(a, dict) or not EMAIL.match(str(a.get("email", ""))):
                        return ("Does not contain a valid address.", field)
                    if "name" in a and not isinstance(a["name"], str):
                        return ("Invalid type. Expected: string", field.replace("email", "name"))
                    if a["email"].lower() in seen:
                        return ("Each email address in the personalization block should be unique "
                                "between to, cc, and bcc. We found the first duplicate instance "
                                "of [%s] in the personalizations.%d.%s field." % (a["email"], i, kind),
                                "personalizations.%d.%s" % (i, kind))
                    seen.add(a["email"].lower())
                    total += 1
        if total > 1000:
            return ("The total number of recipients must be no more than 1000.", "personalizations")
        frm = mail.get("from")
        if not isinstance(frm, dict) or not EMAIL.match(str(frm.get("email", ""))):
            return ("The from object must be provided for every email send. It is an object that "
                    "requires an email parameter, but may also contain a name parameter.", "from")
        if "reply_to" in mail and not EMAIL.match(str(mail["reply_to"].get("email", ""))):
            return ("Does not contain a valid address.", "reply_to.email")
        has_subject = all(isinstance(p.get("subject"), str) and p["subject"] for p in ps)
        if "template_id" not in mail and not has_subject and not (
                isinstance(mail.get("subject"), str) and mail["subject"]):
            return ("The subject is required. You can get around this requirement if you use a "
                    "template with a subject defined or if every personalization has a subject "
                    "defined.", "subject")
        content = mail.get("content")
        if "template_id" not in mail:
            if not isinstance(content, list) or not content:
                return ("Unless a valid template_id is provided, the content parameter is "
                        "required. There must be at least one defined content block. We "
                        "typically suggest both text/plain and text/html blocks are included, "
                        "but only one block is required.", "content")
            types = []
            for i, c in enumerate(content):
                if not isinstance(c, dict) or not c.get("type") or not isinstance(c.get("value"), str) \
                        or c["value"] == "":
                    return ("The content value must be a string at least one character in length.",
                            "content.%d.value" % i)
                types.append(c["type"])
            if "text/plain" in types and types.index("text/plain") != 0:
                return ("If present, text/plain must be first, followed by text/html, followed "
                        "by any other content.", "content")
            if "text/html" in types and types.index("text/html") != (1 if "text/plain" in types else 0):
                return ("If present, text/plain must be first, followed by text/html, followed "
                        "by any other content.", "content")
        for i, a in enumerate(mail.get("attachments", [])):
            if not isinstance(a.get("content"), str) or not a["content"]:
                return ("The attachment content is required.", "attachments.%d.content" % i)
            try:
                base64.b64decode(a["content"], validate=True)
            except (binascii.Error, ValueError):
                return ("The attachment content must be base64 encoded.",
                        "attachments.%d.content" % i)
            if not isinstance(a.get("filename"), str) or not a["filename"]:
                return ("The attachment filename parameter is required.",
                        "attachments.%d.filename" % i)
            if a.get("disposition", "attachment") not in ("attachment", "inline"):
                return ("Disposition must be one of: inline, attachment",
                        "attachments.%d.disposition" % i)
            if a.get("disposition") == "inline" and not a.get("content_id"):
                return ("The content_id parameter is required when the disposition is inline.",
                        "attachments.%d.content_id" % i)
        cats = mail.get("categories", [])
        if not isinstance(cats, list) or len(cats) > 10:
            return ("Too many categories: no more than 10 may be given.", "categories")
        if len(set(cats)) != len(cats):
            return ("Categories must be unique.", "categories")
        for c in cats:
            if not isinstance(c, str) or len(c) > 255:
                return ("A category cannot have more than 255 characters.", "categories")
        for key, value in mail.get("custom_args", {}).items():
            if not isinstance(value, str):
                return ("Custom args values must be strings.", "custom_args.%s" % key)
        if len(json.dumps(mail.get("custom_args", {}))) > 10000:
            return ("Custom args must be less than 10000 bytes.", "custom_args")
        for name, value in mail.get("headers", {}).items():
            if name.lower() in RESERVED:
                return ("The %s header is reserved and cannot be set." % name, "headers")
            if not isinstance(value, str):
                return ("Invalid type. Expected: string, given: %s." % type(value).__name__,
                        "headers")
        return None


if __name__ == "__main__":
    parser = options(__doc__)
    parser.add_argument("--key", required=True)
    parser.add_argument("--scopes", default="mail.send,user.profile.read")
    serve(Handler, parser.parse_args())
