#!/usr/bin/python3
"""A fake Amazon SES API v2: POST /v2/email/outbound-emails (SendEmail) and GET /v2/email/account
(GetAccount), checked as https://docs.aws.amazon.com/ses/latest/APIReference-V2/ describes them.
Every request's AWS Signature Version 4 is recomputed here, independently of the client's signer,
and a wrong or stale one is refused as AWS refuses it."""

import base64
import binascii
import email
import email.policy
import hashlib
import hmac
import json
import re
import urllib.parse
import uuid
from datetime import datetime, timezone

from fakecommon import ProviderHandler, options, serve


def aws_error(handler, status, type_, message):
    headers = {"x-amzn-ErrorType": type_, "x-amzn-RequestId": str(uuid.uuid4())}
    if status == 429:
        headers["Retry-After"] = "7"
    handler.answer(status, {"message": message}, headers=headers)


def canonical_uri(path):
    segments = [urllib.parse.quote(urllib.parse.unquote(s), safe="~") for s in path.split("/")]
    return "/".join(segments) or "/"


def canonical_query(query):
    pairs = [(urllib.parse.quote(urllib.parse.unquote(k), safe="~"),
              urllib.parse.quote(urllib.parse.unquote(v), safe="~"))
             for k, _, v in (item.partition("=") for item in query.split("&") if item)]
    return "&".join("%s=%s" % p for p in sorted(pairs))


class Handler(ProviderHandler):
    def verify_signature(self, body):
        auth = self.headers.get("Authorization", "")
        m = re.fullmatch(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, "
                         r"SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})", auth)
        if not m:
            aws_error(self, 403, "IncompleteSignature",
                      "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders'.")
            return False
        key_id, day, region, service, signed, signature = m.groups()
        if key_id != self.options.access_key:
            aws_error(self, 403, "UnrecognizedClientException",
                      "The security token included in the request is invalid.")
            return False
        if region != self.options.region or service != "ses":
            aws_error(self, 403, "SignatureDoesNotMatch",
                      "Credential should be scoped to a valid region and to the service 'ses'.")
            return False
        amz_date = self.headers.get("X-Amz-Date", "")
        try:
            when = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
        except ValueError:
            aws_error(self, 403, "IncompleteSignature", "X-Amz-Date is missing or malformed.")
            return False
        if abs((datetime.now(timezone.utc) - when).total_seconds()) > 300 or day != amz_date[:8]:
            aws_error(self, 403, "InvalidSignatureException", "Signature expired: %s is now earlier "
                      "or later than the allowed 5 minutes." % amz_date)
            return False
        names = signed.split(";")
        if "host" not in names or "x-amz-date" not in names or names != sorted(names):
            aws_error(self, 403, "SignatureDoesNotMatch", "Host and X-Amz-Date must be signed.")
            return False
        if self.options.session_token:
            if self.headers.get("X-Amz-Security-Token") != self.options.session_token \
                    or "x-amz-security-token" not in names:
                aws_error(self, 403, "UnrecognizedClientException",
                          "The security token included in the request is invalid.")
                return False
        path, _, query = self.path.partition("?")
        lines = []
        for name in names:
            values = self.headers.get_all(name) or []
            if not values:
                aws_error(self, 403, "SignatureDoesNotMatch", "Signed header %s is missing." % name)
                return False
            lines.append("%s:%s" % (name, ",".join(" ".join(v.split()) for v in values)))
        canonical = "\n".join([self.command, canonical_uri(path), canonical_query(query),
                               "\n".join(lines) + "\n", signed, hashlib.sha256(body).hexdigest()])
        scope = "%s/%s/ses/aws4_request" % (day, region)
        to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                             hashlib.sha256(canonical.encode()).hexdigest()])
        key = ("AWS4" + self.options.secret).encode()
        for part in (day, region, "ses", "aws4_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature):
            aws_error(self, 403, "SignatureDoesNotMatch",
                      "The request signature we calculated does not match the signature you "
                      "provided. Check your AWS Secret Access Key and signing method. Consult the "
                      "service documentation for details.")
            return False
        return True

    def rate_limit_body(self):
        return {"message": "Maximum sending rate exceeded."}

    def misbehave(self, recipients):
        locals_ = {r.split("@")[0].lower() for r in recipients}
        if "ratelimit" in locals_:
            aws_error(self, 429, "TooManyRequestsException", "Maximum sending rate exceeded.")
            return True
        if "fail-500" in locals_:
            aws_error(self, 500, "InternalFailure", "The request processing has failed because "
                      "of an unknown error, exception or failure.")
            return True
        if "fail-503" in locals_:
            aws_error(self, 503, "ServiceUnavailable", "The request has failed due to a temporary "
                      "failure of the server.")
            return True
        if "invalid" in locals_:
            aws_error(self, 400, "MessageRejected", "Email address is not verified. The following "
                      "identities failed the check in region %s: invalid@example.org" % self.options.region)
            return True
        return super().misbehave(recipients)

    def do_GET(self):
        if self.path != "/v2/email/account":
            return aws_error(self, 404, "NotFoundException", "Not found")
        if not self.verify_signature(b""):
            return
        self.answer(200, {"DedicatedIpAutoWarmupEnabled": False, "EnforcementStatus": "HEALTHY",
                          "ProductionAccessEnabled": True,
                          "SendQuota": {"Max24HourSend": 50000.0, "MaxSendRate": 14.0,
                                        "SentLast24Hours": 12.0},
                          "SendingEnabled": True})

    def do_POST(self):
        body = self.read_body()
        if self.path != "/v2/email/outbound-emails":
            return aws_error(self, 404, "NotFoundException", "Not found")
        if body is None:
            return aws_error(self, 411, "BadRequestException", "Length Required")
        if not self.verify_signature(body):
            return
        if self.headers.get("Content-Type", "").split(";")[0].strip() != "application/json":
            return aws_error(self, 400, "BadRequestException", "Content-Type must be application/json")
        try:
            req = json.loads(body)
            assert isinstance(req, dict)
        except (ValueError, AssertionError):
            return aws_error(self, 400, "BadRequestException", "The request body is not valid JSON.")
        dest = req.get("Destination", {})
        recipients = [a for k in ("ToAddresses", "CcAddresses", "BccAddresses") for a in dest.get(k, [])]
        if self.misbehave(recipients):
            return
        content = req.get("Content")
        if not isinstance(content, dict) or len(content) != 1 or \
                next(iter(content)) not in ("Simple", "Raw", "Template"):
            return aws_error(self, 400, "BadRequestException",
                             "Content must contain exactly one of Simple, Raw or Template.")
        if "Raw" in content:
            try:
                raw = base64.b64decode(content["Raw"]["Data"], validate=True)
            except (KeyError, TypeError, binascii.Error, ValueError):
                return aws_error(self, 400, "BadRequestException", "Raw.Data must be base64 (a Blob).")
            if len(raw) > 40 * 1024 * 1024:
                return aws_error(self, 400, "MessageRejected", "Message length exceeds the limit.")
            message = email.message_from_bytes(raw, policy=email.policy.default)
            if not message.get("From") and not req.get("FromEmailAddress"):
                return aws_error(self, 400, "BadRequestException", "Missing final '@domain'")
            if not recipients and not (message.get("To") or message.get("Cc") or message.get("Bcc")):
                return aws_error(self, 400, "BadRequestException", "Missing required header 'To'.")
        if len(recipients) > 50:
            return aws_error(self, 400, "BadRequestException", "Recipient count exceeds 50.")
        for tag in req.get("EmailTags", []):
            if set(tag) != {"Name", "Value"} or not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", tag["Name"]) \
                    or not re.fullmatch(r"[A-Za-z0-9_.@-]{0,256}", tag["Value"]):
                return aws_error(self, 400, "BadRequestException", "Invalid tag: %r" % tag)
        self.answer(200, {"MessageId": "0100018" + uuid.uuid4().hex + "-000000"})


if __name__ == "__main__":
    parser = options(__doc__)
    parser.add_argument("--access-key", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--region", default="eu-west-1")
    parser.add_argument("--session-token", default="")
    serve(Handler, parser.parse_args())
