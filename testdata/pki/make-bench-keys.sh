#!/usr/bin/env bash
# Generate the key sets the build benchmarks use for RSA-3072 and RSA-4096 (RSA-2048 is keys/):
#
#   testdata/pki/make-bench-keys.sh        # writes bench-rsa3072/ and bench-rsa4096/
#
# Each folder holds alice@example.com.{pem,crt} (signer; key + cert + intermediate) and
# bob@example.net.crt (recipient), issued by the test intermediate with the same extensions
# and dates as keys/. Kept apart from make.sh, which regenerates every key and so breaks the
# golden tests; this script touches only the bench-rsa* folders.
# TEST-ONLY keys, published on purpose: NEVER use them for real mail.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

. "$here/ca-config.sh"
write_ca_config "$work" 6000

issue() { # BITS ADDR NAME DIR
    local bits=$1 addr=$2 name=$3 dir=$4
    openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:$bits" -out "$work/$addr.key" 2>/dev/null
    issue_end_entity "$work" "$work/$addr.key" "$addr" "$name" "$dir/$addr.crt"
}

for bits in 3072 4096; do
    dir="bench-rsa$bits"
    rm -rf "$dir" && mkdir -p "$dir"
    issue "$bits" alice@example.com "Alice RSA-$bits" "$dir"
    cat "$work/alice@example.com.key" "$dir/alice@example.com.crt" intermediate.crt >"$dir/alice@example.com.pem"
    issue "$bits" bob@example.net "Bob RSA-$bits" "$dir"
    echo "wrote $dir/ (RSA-$bits)"
done
