#!/usr/bin/env bash
# Two more PKCS#12 fixtures, for the CLI tests (crates/smime-cli/tests/cli/passphrase.rs):
#
#   nss.p12   what NSS writes: alice's key and certificate imported into a fresh NSS database
#             (certutil, pk12util from libnss3-tools) and exported again with `pk12util -o`
#             (NSS 3.87: PBES2 key bag AES-256-CBC, certificate bag AES-128-CBC, PBKDF2-HMAC-SHA256
#             and an HMAC-SHA256 MAC, 600,000 iterations each)
#   rc4.p12   `openssl pkcs12 -export -legacy -keypbe PBE-SHA1-RC4-128 -certpbe
#             PBE-SHA1-RC4-128`: an algorithm we refuse by name
#
# Passphrase `test`; run testdata/pki/pkcs12/make.sh first (nss.p12 starts from default.p12).
set -euo pipefail
cd "$(dirname "$0")"
K=../keys
db=$(mktemp -d)
trap 'rm -rf "$db"' EXIT
certutil -N -d "sql:$db" --empty-password
pk12util -i default.p12 -d "sql:$db" -W test >/dev/null
nick=$(certutil -L -d "sql:$db" | awk '/u,u,u/ { sub(/ +u,u,u$/, ""); print; exit }')
pk12util -o nss.p12 -n "$nick" -d "sql:$db" -W test >/dev/null
openssl pkcs12 -export -legacy -keypbe PBE-SHA1-RC4-128 -certpbe PBE-SHA1-RC4-128 \
    -inkey "$K/alice@example.com.pem" -in "$K/alice@example.com.crt" -passout pass:test -out rc4.p12
