#!/usr/bin/env bash
# Generate the oversized-key negative fixture, bad/rsa16384@example.com.{pem,crt}: an RSA-16384
# key and its certificate, issued by the test intermediate like the other bad/ fixtures.
#
#   testdata/pki/make-rsa16384.sh [EXISTING_16384_BIT_KEY.pem]
#
# Kept apart from make.sh on purpose: an RSA-16384 key takes minutes to generate (about 1.5 on
# one core in 2026), and re-running make.sh regenerates every key, which breaks the golden
# tests. This script touches only the two rsa16384@ files and reads (never writes) the
# intermediate CA. The key must be refused at load time, before any private-key operation, by
# MAX_RSA_BITS (8192): see crates/smime-core/tests/core/hostile.rs and docs/hostile-inputs.md.
# TEST-ONLY key, published on purpose: NEVER use it for real mail.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
addr=rsa16384@example.com

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if [[ $# -ge 1 ]]; then
    cp "$1" "$work/key.pem"
else
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:16384 -out "$work/key.pem" 2>/dev/null
fi
bits="$(openssl pkey -in "$work/key.pem" -noout -text | sed -n 's/.*Private-Key: (\([0-9]*\) bit.*/\1/p')"
[[ "$bits" == 16384 ]] || { echo "the key is RSA-$bits, not RSA-16384" >&2; exit 1; }

. "$here/ca-config.sh"
write_ca_config "$work" 5000
issue_end_entity "$work" "$work/key.pem" "$addr" "Rsa16384 Test" "bad/$addr.crt"
cat "$work/key.pem" "bad/$addr.crt" intermediate.crt >"bad/$addr.pem"
echo "wrote bad/$addr.pem and bad/$addr.crt (RSA-$bits)"
