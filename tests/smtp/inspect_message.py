#!/usr/bin/python3
"""Parses a message with Python's email package, independently of Postdesk, and prints its
structure as JSON: headers (decoded), and for each part its content type, charset, transfer
encoding, disposition, filename and decoded body (text as a string, anything else as base64)."""
import base64
import email
import email.policy
import json
import sys


def part_info(part):
    info = {
        "content_type": part.get_content_type(),
        "charset": part.get_content_charset(),
        "cte": (part.get("Content-Transfer-Encoding") or "").lower() or None,
        "disposition": part.get_content_disposition(),
        "filename": part.get_filename(),
    }
    if part.is_multipart():
        info["parts"] = [part_info(p) for p in part.iter_parts()]
    elif part.get_content_maintype() == "text":
        # Line ends as Python strings have them; the CRLF before a boundary belongs to the
        # boundary (RFC 2046 5.1.1), so a part's text does not end with it.
        info["text"] = part.get_content().replace("\r\n", "\n")
    else:
        info["base64"] = base64.b64encode(part.get_payload(decode=True)).decode()
    return info


def main():
    with open(sys.argv[1], "rb") as f:
        raw = f.read()
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    out = {
        "headers": [[k, str(v)] for k, v in msg.items()],
        "defects": [type(d).__name__ for d in msg.defects],
        "structure": part_info(msg),
        "crlf": b"\n" not in raw.replace(b"\r\n", b""),
        "size": len(raw),
    }
    json.dump(out, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
