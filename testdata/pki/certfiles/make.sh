#!/usr/bin/env bash
# Alice's certificate (testdata/pki/keys/alice@example.com.crt) and the intermediate in the forms
# CAs and people hand certificates out. Regenerate with `testdata/pki/certfiles/make.sh`.
#
#   alice-chain.pem       PEM: Alice's certificate, then the intermediate
#   alice.cer             DER: Alice's certificate alone
#   alice-chain.p7b       PKCS#7 certificate bundle, DER (`openssl crl2pkcs7 -nocrl`)
#   alice-chain.p7c       the same bundle in PEM (`-----BEGIN PKCS7-----`)
#   alice-chain-ber.p7b   a BER SignedData (indefinite lengths, as `openssl cms -stream` and
#                         Windows write) carrying both certificates, with a signer
#   empty.p7b             a PKCS#7 bundle without certificates
set -euo pipefail
cd "$(dirname "$0")"
CRT=../keys/alice@example.com.crt
cat "$CRT" ../intermediate.crt >alice-chain.pem
openssl x509 -in "$CRT" -outform DER -out alice.cer
openssl crl2pkcs7 -nocrl -certfile alice-chain.pem -outform DER -out alice-chain.p7b
openssl crl2pkcs7 -nocrl -certfile alice-chain.pem -outform PEM -out alice-chain.p7c
printf 'x' | openssl cms -sign -nodetach -stream -outform DER -md sha256 \
    -signer ../keys/alice@example.com.pem -certfile ../intermediate.crt -out alice-chain-ber.p7b
openssl crl2pkcs7 -nocrl -outform DER -out empty.p7b
