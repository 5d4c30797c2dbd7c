#!/usr/bin/python3
"""Verifies the DKIM signature of a message (read from stdin) with Debian's python3-dkim, an
implementation independent of ours. The public key comes from a PEM file instead of DNS: the TXT
record is built here from the key itself.

usage: verify_dkim.py PUBLIC_KEY_PEM < message
  prints JSON {"verified": bool, "log": str, "tags": {...}, "looked_up": [...]}; exits 0 when
  verified, 1 when not, 3 when python3-dkim (or python3-nacl for Ed25519) is missing.
usage: verify_dkim.py --serve
  answers one JSON request per line, {"key": PUBLIC_KEY_PEM, "message": base64, "index": n}
  (n: which DKIM-Signature, from the top; default 0), with one JSON
  line as above (importing python3-dkim takes a second, so a test run keeps one process)."""

import base64
import io
import json
import logging
import sys

try:
    import dkim
    import dkim.util
except ImportError as error:
    print(f"python3-dkim is not installed ({error}): apt-get install python3-dkim", file=sys.stderr)
    sys.exit(3)


def public_key_record(pem_path):
    with open(pem_path, "rb") as pem_file:
        lines = pem_file.read().decode("ascii").strip().splitlines()
    der = base64.b64decode("".join(line for line in lines if not line.startswith("-----")))
    # An Ed25519 SubjectPublicKeyInfo is a fixed 12-octet prefix and the 32-octet key
    # (RFC 8410 section 4); RFC 8463 publishes the bare key. RSA publishes the whole DER.
    if len(der) == 44 and der[:12] == bytes.fromhex("302a300506032b6570032100"):
        return b"v=DKIM1; k=ed25519; p=" + base64.b64encode(der[12:])
    return b"v=DKIM1; k=rsa; p=" + base64.b64encode(der)


def require_nacl():
    try:
        import nacl.signing  # noqa: F401
    except ImportError as error:
        print(f"python3-nacl is not installed ({error}): apt-get install python3-nacl",
              file=sys.stderr)
        sys.exit(3)


def verify(message, key_path, index=0):
    record = public_key_record(key_path)
    looked_up = []

    def dnsfunc(name, timeout=5):
        looked_up.append(name.decode("ascii") if isinstance(name, bytes) else name)
        return record

    log = io.StringIO()
    logger = logging.getLogger("verify_dkim")
    logger.addHandler(logging.StreamHandler(log))
    logger.setLevel(logging.DEBUG)
    verifier = dkim.DKIM(message, logger=logger, minkey=1024)
    try:
        verified = bool(verifier.verify(idx=index, dnsfunc=dnsfunc))
    except dkim.DKIMException as error:
        verified = False
        log.write(f"exception: {error}\n")
    tags = {}
    if verifier.signature_fields:
        tags = {
            key.decode("ascii"): value.decode("ascii", "replace")
            for key, value in verifier.signature_fields.items()
        }
    logger.handlers.clear()
    return {"verified": verified, "log": log.getvalue(), "tags": tags, "looked_up": looked_up}


def main():
    if sys.argv[1:] == ["--serve"]:
        require_nacl()
        for line in sys.stdin:
            request = json.loads(line)
            answer = verify(base64.b64decode(request["message"]), request["key"],
                            request.get("index", 0))
            sys.stdout.write(json.dumps(answer) + "\n")
            sys.stdout.flush()
        return
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    if b"k=ed25519" in public_key_record(sys.argv[1]):
        require_nacl()
    answer = verify(sys.stdin.buffer.read(), sys.argv[1])
    json.dump(answer, sys.stdout)
    sys.exit(0 if answer["verified"] else 1)


if __name__ == "__main__":
    main()
