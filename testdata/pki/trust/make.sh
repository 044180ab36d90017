#!/usr/bin/env bash
# Certificates for the path-validation tests (keys/path.rs, `smime certs list`). All RSA-2048,
# valid 2024-01-01 to 2054-01-01 unless said otherwise. Regenerate with
# `testdata/pki/trust/make.sh`.
#
#   constrained-ca.crt      a subordinate CA under the test root (testdata/pki/ca.crt) with
#                           nameConstraints permitted;email:example.com (S/MIME issuing CAs
#                           usually are name-constrained), pathlen 0
#   inside@example.com.crt  a leaf from it inside the constraint (+ its .pem key)
#   outside@example.org.crt a leaf from it outside the constraint
#   other-root.crt          a self-signed root nobody trusts
#   stranger@example.com.crt a leaf from other-root
#   expired-ca.crt          a subordinate CA under the test root that expired in 2025
#   late@example.com.crt    a leaf from expired-ca (itself valid to 2054)
#   ec-ca.crt               a P-384 subordinate CA under the test root (RSA-signed)
#   ec-leaf@example.com.crt a P-256 leaf from ec-ca: signed with ecdsa-with-SHA384
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
. ../ca-config.sh
write_ca_config "$work" 4000

key() { openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>/dev/null; }
req() { openssl req -config "$work/ca.cnf" -new -key "$1" -subj "$2" -out "$3"; }
sign() { # CSR OUT EXT START END ISSUER_CRT ISSUER_KEY
    openssl ca -config "$work/ca.cnf" -batch -notext -cert "$6" -keyfile "$7" \
        -startdate "$4" -enddate "$5" -extfile "$3" -extensions ext -in "$1" -out "$2" 2>/dev/null
}
ca_ext() { # FILE [EXTRA LINE]
    printf '%s\n' "[ ext ]" "basicConstraints = critical, CA:TRUE, pathlen:0" \
        "keyUsage = critical, keyCertSign, cRLSign" "subjectKeyIdentifier = hash" \
        "authorityKeyIdentifier = keyid" ${2:+"$2"} >"$1"
}
ee_ext() { # FILE ADDR
    printf '%s\n' "[ ext ]" "basicConstraints = critical, CA:FALSE" \
        "keyUsage = critical, digitalSignature, keyEncipherment" "extendedKeyUsage = emailProtection" \
        "subjectAltName = email:$2" "subjectKeyIdentifier = hash" "authorityKeyIdentifier = keyid" >"$1"
}
S=20240101000000Z
E=20540101000000Z

# The name-constrained CA and its two leaves.
key "$work/cca.key"
req "$work/cca.key" "/O=smime test PKI/CN=smime TEST-ONLY Constrained CA" "$work/cca.csr"
ca_ext "$work/cca.ext" "nameConstraints = critical, permitted;email:example.com"
sign "$work/cca.csr" constrained-ca.crt "$work/cca.ext" $S $E ../ca.crt ../ca.key
for addr in inside@example.com outside@example.org; do
    key "$work/$addr.key"
    req "$work/$addr.key" "/O=smime test PKI/CN=$addr" "$work/$addr.csr"
    ee_ext "$work/$addr.ext" "$addr"
    sign "$work/$addr.csr" "$addr.crt" "$work/$addr.ext" $S $E constrained-ca.crt "$work/cca.key"
done
cat "$work/inside@example.com.key" inside@example.com.crt constrained-ca.crt >inside@example.com.pem

# A root nobody trusts, and a leaf from it.
key "$work/other.key"
req "$work/other.key" "/O=elsewhere/CN=Other Root" "$work/other.csr"
printf '%s\n' "[ ext ]" "basicConstraints = critical, CA:TRUE" "keyUsage = critical, keyCertSign, cRLSign" \
    "subjectKeyIdentifier = hash" >"$work/other.ext"
openssl ca -config "$work/ca.cnf" -batch -notext -selfsign -keyfile "$work/other.key" \
    -startdate $S -enddate $E -extfile "$work/other.ext" -extensions ext -in "$work/other.csr" \
    -out other-root.crt 2>/dev/null
key "$work/stranger.key"
req "$work/stranger.key" "/O=elsewhere/CN=stranger@example.com" "$work/stranger.csr"
ee_ext "$work/stranger.ext" stranger@example.com
sign "$work/stranger.csr" stranger@example.com.crt "$work/stranger.ext" $S $E other-root.crt "$work/other.key"

# An expired subordinate CA, and a leaf from it.
key "$work/eca.key"
req "$work/eca.key" "/O=smime test PKI/CN=smime TEST-ONLY Expired CA" "$work/eca.csr"
ca_ext "$work/eca.ext"
sign "$work/eca.csr" expired-ca.crt "$work/eca.ext" $S 20250101000000Z ../ca.crt ../ca.key
key "$work/late.key"
req "$work/late.key" "/O=smime test PKI/CN=late@example.com" "$work/late.csr"
ee_ext "$work/late.ext" late@example.com
sign "$work/late.csr" late@example.com.crt "$work/late.ext" $S $E expired-ca.crt "$work/eca.key"

# An EC CA (P-384) and a P-256 leaf it signs (ecdsa-with-SHA384).
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$work/ecca.key" 2>/dev/null
req "$work/ecca.key" "/O=smime test PKI/CN=smime TEST-ONLY EC CA" "$work/ecca.csr"
ca_ext "$work/ecca.ext"
sign "$work/ecca.csr" ec-ca.crt "$work/ecca.ext" $S $E ../ca.crt ../ca.key
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/ecleaf.key" 2>/dev/null
req "$work/ecleaf.key" "/O=smime test PKI/CN=ec-leaf@example.com" "$work/ecleaf.csr"
ee_ext "$work/ecleaf.ext" ec-leaf@example.com
sed -i 's/keyEncipherment/keyAgreement/' "$work/ecleaf.ext"
openssl ca -config "$work/ca.cnf" -batch -notext -cert ec-ca.crt -keyfile "$work/ecca.key" -md sha384 \
    -startdate $S -enddate $E -extfile "$work/ecleaf.ext" -extensions ext -in "$work/ecleaf.csr" \
    -out ec-leaf@example.com.crt 2>/dev/null

# What OpenSSL says, as a check of the fixtures themselves.
openssl verify -CAfile ../ca.crt -untrusted ec-ca.crt -purpose smimesign ec-leaf@example.com.crt >/dev/null
openssl verify -CAfile ../ca.crt -untrusted constrained-ca.crt -purpose smimesign inside@example.com.crt >/dev/null
if openssl verify -CAfile ../ca.crt -untrusted constrained-ca.crt outside@example.org.crt >/dev/null 2>&1; then
    echo "outside@example.org.crt should violate the name constraint" >&2
    exit 1
fi
