#!/usr/bin/env bash
# Generate the TEST-ONLY public key infrastructure used by the smime test suites.
#
#   testdata/pki/make.sh            # (re)generate everything in testdata/pki/ and demo/
#
# Only `openssl` (3.0 or later) is used. Every run makes new keys, so the output is not
# byte-for-byte reproducible, but its shape is: same names, subjects, extensions and dates.
# Regenerating invalidates everything derived from the old keys (crates/smime-core/tests/golden/).
# The private keys written here are published in the repository: NEVER use them for real mail.
#
# Layout produced (see README.md next to this script):
#   ca.crt / ca.key                      root CA, RSA-2048, 2024-01-01 .. 2054-01-01, CA:TRUE
#   intermediate.crt / intermediate.key  intermediate CA signed by the root, same dates, pathlen 0
#   keys/<addr>.pem                      PKCS#8 key + end-entity cert + intermediate cert
#                                        (erin: PKCS#1 key with `openssl pkcs12 -nodes` Bag Attributes)
#   keys/<addr>.crt                      end-entity cert only
#   keys/<addr>.p12                      PKCS#12 (key + cert + intermediate + root), password `test`,
#                                        legacy algorithms gpgsm 2.2 can read
#   bad/<addr>.pem, bad/<addr>.crt       certificates a sending agent must refuse
#   ../../demo/                          demo key set for the top-level README
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$here"

# End-entity validity (explicit, so tests do not depend on when this script ran).
EE_START=20240101000000Z
EE_END=20540101000000Z
# CA validity: 30 years.
CA_START=20240101000000Z
CA_END=20540101000000Z

GOOD=(alice@example.com bob@example.net carol@example.org dave@example.net erin@example.com)
P12_PASS=test

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

. "$here/ca-config.sh"
write_ca_config "$work" 1000

# newkey BITS OUT: an unencrypted PKCS#8 RSA key ("BEGIN PRIVATE KEY").
newkey() {
    openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:$1" -out "$2" 2>/dev/null
}

# csr KEY SUBJ OUT
csr() {
    openssl req -config "$work/ca.cnf" -new -key "$1" -subj "$2" -out "$3"
}

# sign CSR OUT EXTFILE START END [ISSUER_CRT ISSUER_KEY | selfsign KEY]
sign() {
    local csr="$1" out="$2" ext="$3" start="$4" end="$5"
    shift 5
    local issuer=()
    if [[ "$1" == selfsign ]]; then
        issuer=(-selfsign -keyfile "$2")
    else
        issuer=(-cert "$1" -keyfile "$2")
    fi
    openssl ca -config "$work/ca.cnf" -batch -notext "${issuer[@]}" \
        -startdate "$start" -enddate "$end" \
        -extfile "$ext" -extensions ext -in "$csr" -out "$out" 2>/dev/null
}

# ee_ext FILE SAN_EMAIL [KEY_USAGE] [EKU]: end-entity extensions.
ee_ext() {
    cat >"$1" <<EOF
[ ext ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, ${3:-digitalSignature, keyEncipherment}
extendedKeyUsage       = ${4:-emailProtection}
subjectAltName         = email:$2
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid
EOF
}

# make_ee ADDR CN OUTDIR [BITS] [START] [END] [SAN] [KU] [EKU]
# Writes OUTDIR/ADDR.key (PKCS#8), OUTDIR/ADDR.crt (end-entity only).
make_ee() {
    local addr="$1" cn="$2" dir="$3" bits="${4:-2048}" start="${5:-$EE_START}" end="${6:-$EE_END}"
    local san="${7:-$addr}" ku="${8:-}" eku="${9:-}"
    newkey "$bits" "$work/$addr.key"
    csr "$work/$addr.key" "/O=smime test PKI/CN=$cn/emailAddress=$san" "$work/$addr.csr"
    ee_ext "$work/$addr.ext" "$san" "$ku" "$eku"
    sign "$work/$addr.csr" "$dir/$addr.crt" "$work/$addr.ext" "$start" "$end" \
        intermediate.crt "$work/intermediate.key.pem"
}

mkdir -p keys bad
rm -f keys/* bad/*

# ---------------------------------------------------------------------------------------------
# Root and intermediate CAs.
# ---------------------------------------------------------------------------------------------
newkey 2048 ca.key
csr ca.key "/O=smime test PKI/CN=smime TEST-ONLY Root CA" "$work/ca.csr"
cat >"$work/ca.ext" <<EOF
[ ext ]
basicConstraints       = critical, CA:TRUE
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash
EOF
sign "$work/ca.csr" ca.crt "$work/ca.ext" "$CA_START" "$CA_END" selfsign ca.key

newkey 2048 intermediate.key
csr intermediate.key "/O=smime test PKI/CN=smime TEST-ONLY Intermediate CA" "$work/int.csr"
cat >"$work/int.ext" <<EOF
[ ext ]
basicConstraints       = critical, CA:TRUE, pathlen:0
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid
EOF
sign "$work/int.csr" intermediate.crt "$work/int.ext" "$CA_START" "$CA_END" ca.crt ca.key
cp intermediate.key "$work/intermediate.key.pem"

# ---------------------------------------------------------------------------------------------
# Good end-entity certificates.
# ---------------------------------------------------------------------------------------------
for addr in "${GOOD[@]}"; do
    name="${addr%%@*}"
    cn="${name^} Test"
    make_ee "$addr" "$cn" keys
    # PKCS#12 the way gpgsm 2.2 can import it (OpenSSL 3's default AES/PBKDF2 PKCS#12 it cannot).
    cat intermediate.crt ca.crt >"$work/chain.crt"
    openssl pkcs12 -export -name "$addr" -inkey "$work/$addr.key" -in "keys/$addr.crt" \
        -certfile "$work/chain.crt" -passout "pass:$P12_PASS" \
        -keypbe PBE-SHA1-3DES -certpbe NONE -macalg sha1 -out "keys/$addr.p12"
    if [[ "$addr" == erin@example.com ]]; then
        # Erin's key file is what `openssl pkcs12 -nodes` prints (Bag Attributes before each
        # PEM block), except that the key is the traditional PKCS#1 "BEGIN RSA PRIVATE KEY".
        dump="$(openssl pkcs12 -in "keys/$addr.p12" -passin "pass:$P12_PASS" -nodes -nocerts)"
        {
            printf '%s\n' "$dump" | sed -n '/^-----BEGIN/q;p'
            openssl rsa -in "$work/$addr.key" -traditional 2>/dev/null
            openssl pkcs12 -in "keys/$addr.p12" -passin "pass:$P12_PASS" -nokeys -clcerts
            openssl pkcs12 -in "keys/$addr.p12" -passin "pass:$P12_PASS" -nokeys -cacerts |
                awk '/^Bag Attributes/{blk=""} {blk=blk $0 "\n"} /^-----END/{if (blk ~ /subject=[^\n]*Intermediate/) printf "%s", blk; blk=""}'
        } >"keys/$addr.pem"
    else
        cat "$work/$addr.key" "keys/$addr.crt" intermediate.crt >"keys/$addr.pem"
    fi
done

# ---------------------------------------------------------------------------------------------
# Negative fixtures: every one must be refused by a careful sending agent.
# ---------------------------------------------------------------------------------------------
bad_pem() { cat "$work/$1.key" "bad/$1.crt" intermediate.crt >"bad/$1.pem"; }

# Expired: valid 2020-01-01 .. 2021-01-01.
make_ee expired@example.com "Expired Test" bad 2048 20200101000000Z 20210101000000Z
bad_pem expired@example.com
# Certificate for another address (SAN and subject emailAddress are someone-else@example.com).
make_ee wrongaddr@example.com "Wrongaddr Test" bad 2048 "$EE_START" "$EE_END" someone-else@example.com
bad_pem wrongaddr@example.com
# RSA-1024: too weak.
make_ee weak@example.com "Weak Test" bad 1024
bad_pem weak@example.com
# Extended key usage serverAuth only (no emailProtection).
make_ee noeku@example.com "Noeku Test" bad 2048 "$EE_START" "$EE_END" "" "" serverAuth
bad_pem noeku@example.com
# Key usage keyEncipherment only: may encrypt to it, must not sign with it.
make_ee nosign@example.com "Nosign Test" bad 2048 "$EE_START" "$EE_END" "" keyEncipherment
bad_pem nosign@example.com
# The .pem carries a private key that does not belong to its certificate.
make_ee mismatch@example.com "Mismatch Test" bad
newkey 2048 "$work/other.key"
cat "$work/other.key" bad/mismatch@example.com.crt intermediate.crt >bad/mismatch@example.com.pem

# ---------------------------------------------------------------------------------------------
# Demo set for the top-level README (demo/message.eml and demo/README.md are hand-written).
# ---------------------------------------------------------------------------------------------
mkdir -p "$repo/demo/keys"
cp ca.crt "$repo/demo/ca.crt"
cp keys/alice@example.com.crt keys/bob@example.net.crt "$repo/demo/keys/"
# The first line marks the key as published on purpose: smime does not warn that others can
# read it (a fresh clone has no 0600); real keys still get the warning.
{
    echo "TEST-ONLY key of the smime demo, published with the source: never use it for real mail."
    cat keys/alice@example.com.pem
} >"$repo/demo/keys/alice@example.com.pem"

# Sanity checks: the chain verifies for every good certificate, and the dates are the ones asked.
for addr in "${GOOD[@]}"; do
    openssl verify -CAfile ca.crt -untrusted intermediate.crt -purpose smimesign \
        "keys/$addr.crt" >/dev/null
done
echo "testdata/pki regenerated: $(ls keys | wc -l) files in keys/, $(ls bad | wc -l) in bad/"
