#!/usr/bin/env bash
# Regenerates the test certificates for the SMTP tests (valid for 30 years):
#   ca.pem / ca.key                the test CA the client is told to trust (ca=...)
#   server.pem / server.key        localhost + 127.0.0.1, signed by the test CA
#   unknown-ca.pem / .key          a CA nobody trusts
#   untrusted.pem / untrusted.key  localhost + 127.0.0.1, signed by the unknown CA
#   dkim.key                       an RSA key for signing in the send command test (made once)
set -euo pipefail
cd "$(dirname "$0")"
days=10950
ext=$(mktemp)
trap 'rm -f "$ext" *.csr *.srl' EXIT
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' >"$ext"

make_ca() { # name subject
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.pem" -days $days \
        -subj "$2" -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
}
make_leaf() { # name ca subject
    openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "$3"
    openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial -out "$1.pem" \
        -days $days -extfile "$ext"
}
make_ca ca "/O=Postdesk Tests/CN=Postdesk Test CA"
make_leaf server ca "/O=Postdesk Tests/CN=localhost"
make_ca unknown-ca "/O=Nobody/CN=Unknown Test CA"
make_leaf untrusted unknown-ca "/O=Nobody/CN=localhost"
