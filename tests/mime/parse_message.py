#!/usr/bin/python3
"""Parses one RFC 5322 message (read from stdin) with Python's own email package and prints what it
sees as JSON: line statistics, defects, headers (raw and decoded), addresses and the MIME tree with
decoded bodies. The C++ tests compare this independent reading with what they composed."""

import base64
import email
import email.policy
import json
import sys


def line_report(data):
    lines = data.split(b"\r\n")
    header_end = data.find(b"\r\n\r\n")
    header_block = data[:header_end] if header_end >= 0 else data
    report = {
        "max_length": max((len(line) for line in lines), default=0),
        "bare_lf": b"\n" in data.replace(b"\r\n", b""),
        "bare_cr": b"\r" in data.replace(b"\r\n", b""),
        "ends_with_crlf": data.endswith(b"\r\n"),
        "has_header_body_separator": header_end >= 0,
        "header_8bit": any(byte > 127 for byte in header_block),
        "body_8bit": header_end >= 0 and any(byte > 127 for byte in data[header_end:]),
        # RFC 2047 section 2: a line holding an encoded-word is at most 76 characters.
        "long_encoded_word_lines": [
            line.decode("utf-8", "replace")
            for line in header_block.split(b"\r\n")
            if b"=?" in line and len(line) > 76
        ],
        "header_lines_over_78": [
            line.decode("utf-8", "replace")
            for line in header_block.split(b"\r\n")
            if len(line) > 78
        ],
        "whitespace_only_header_lines": sum(
            1 for line in header_block.split(b"\r\n") if line and not line.strip()
        ),
    }
    return report


def raw_headers(data):
    header_end = data.find(b"\r\n\r\n")
    block = data[: header_end + 2] if header_end >= 0 else data
    fields = []
    for line in block.split(b"\r\n"):
        if not line:
            continue
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1][1] += b"\r\n" + line
        else:
            name, _, value = line.partition(b":")
            fields.append([name, value])
    return [
        [name.decode("utf-8", "replace"), value.decode("utf-8", "replace")]
        for name, value in fields
    ]


def describe(part, defects):
    defects.extend(type(defect).__name__ for defect in part.defects)
    content_type = part.get_content_type()
    node = {
        "content_type": content_type,
        "params": {},
        "charset": part.get_content_charset(),
        "cte": part.get("content-transfer-encoding", ""),
        "disposition": part.get_content_disposition(),
        "filename": part.get_filename(),
        "content_id": str(part["content-id"]) if part["content-id"] else None,
        "children": [],
    }
    if part["content-type"] is not None:
        header = part["content-type"]
        defects.extend(type(defect).__name__ for defect in header.defects)
        node["params"] = {key: str(value) for key, value in header.params.items()}
    if part["content-disposition"] is not None:
        header = part["content-disposition"]
        defects.extend(type(defect).__name__ for defect in header.defects)
        node["disposition_params"] = {key: str(value) for key, value in header.params.items()}
    if part.is_multipart():
        node["preamble"] = part.preamble
        node["epilogue"] = part.epilogue
        for child in part.iter_parts():
            node["children"].append(describe(child, defects))
    else:
        payload = part.get_payload(decode=True) or b""
        node["body_base64"] = base64.b64encode(payload).decode("ascii")
        if part.get_content_maintype() == "text":
            node["text"] = part.get_content()
        # The encoded body lines as sent, to check line lengths per encoding.
        raw = part.get_payload(decode=False)
        node["encoded_max_line"] = max((len(line) for line in raw.splitlines()), default=0)
    return node


def main():
    data = sys.stdin.buffer.read()
    if "--smtputf8" in sys.argv[1:]:
        # RFC 6532 headers are UTF-8: the bytes parser would call each such octet undecodable.
        message = email.message_from_string(data.decode("utf-8"), policy=email.policy.SMTPUTF8)
    else:
        message = email.message_from_bytes(data, policy=email.policy.default)
    defects = []
    headers = []
    for name, value in message.items():
        defects.extend(type(defect).__name__ for defect in getattr(value, "defects", ()))
        headers.append([name, str(value)])
    addresses = {}
    for name in ("from", "to", "cc", "bcc", "reply-to"):
        header = message[name]
        if header is None:
            continue
        addresses[name] = [
            {
                "display_name": address.display_name,
                "username": address.username,
                "domain": address.domain,
                "addr_spec": address.addr_spec,
            }
            for address in header.addresses
        ]
    if "--smtputf8" in sys.argv[1:]:
        # A non-ASCII local part is what SMTPUTF8 is for, not a defect.
        defects = [defect for defect in defects if defect != "NonASCIILocalPartDefect"]
    result = {
        "lines": line_report(data),
        "raw_headers": raw_headers(data),
        "headers": headers,
        "addresses": addresses,
        "tree": describe(message, defects),
        "defects": defects,
    }
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
