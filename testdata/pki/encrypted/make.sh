#!/usr/bin/env bash
# Encrypted copies of Alice's test key (testdata/pki/keys/alice@example.com.pem), passphrase
# `test`, as OpenSSL 3 writes them, each followed by Alice's certificate and the intermediate
# (as in the plain key file, so that a message signed with it carries the chain). Regenerate with `testdata/pki/encrypted/make.sh`; the
# committed files are what the tests read (no OpenSSL at test time).
#
#   alice-pkcs1.pem            the key unencrypted, PKCS#1 (`RSA PRIVATE KEY`): what the
#                              traditional files below decrypt to
#   alice-trad-<cipher>.pem    traditional encrypted PEM (`Proc-Type: 4,ENCRYPTED`, `DEK-Info`),
#                              `openssl rsa -traditional -<cipher>`: aes128, aes192, aes256, des3
#   alice-pkcs8-aes256.pem     `ENCRYPTED PRIVATE KEY`, OpenSSL 3's default `openssl pkcs8
#                              -topk8` (PBES2, PBKDF2-HMAC-SHA256, AES-256-CBC)
#   alice-renewed.crt          a second certificate for Alice's key (serial 4242, from the
#                              intermediate): what a renewal gives; --signer-cert must pick it
#                              over the certificate inside the key file
#   bytes-to-key.txt           EVP_BytesToKey(MD5, "test", salt 00..07) for 32 bytes, from
#                              `openssl enc -P`
set -euo pipefail
cd "$(dirname "$0")"
KEY=../keys/alice@example.com.pem
openssl rsa -in "$KEY" -traditional -out alice-pkcs1.pem 2>/dev/null
for c in aes128 aes192 aes256 des3; do
    openssl rsa -in "$KEY" -traditional "-$c" -passout pass:test -out "alice-trad-$c.pem" 2>/dev/null
done
openssl pkcs8 -topk8 -in "$KEY" -passout pass:test -out alice-pkcs8-aes256.pem
certs=$(sed -n '/BEGIN CERTIFICATE/,/END CERTIFICATE/p' "$KEY")
for f in alice-trad-*.pem alice-pkcs8-aes256.pem; do
    printf '%s\n' "$certs" >>"$f"
done
openssl enc -aes-256-cbc -P -md md5 -pass pass:test -S 0001020304050607 2>/dev/null |
    sed -n 's/^key=//p' >bytes-to-key.txt
ext=$(mktemp)
trap 'rm -f "$ext"' EXIT
printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
    "extendedKeyUsage=emailProtection" "subjectAltName=email:alice@example.com" \
    "subjectKeyIdentifier=hash" "authorityKeyIdentifier=keyid" >"$ext"
openssl req -new -key "$KEY" -subj "/O=smime test PKI/CN=Alice Renewed/emailAddress=alice@example.com" |
    openssl x509 -req -CA ../intermediate.crt -CAkey ../intermediate.key -set_serial 4242 \
        -days 9000 -extfile "$ext" -out alice-renewed.crt 2>/dev/null
