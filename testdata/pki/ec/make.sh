#!/usr/bin/env bash
# EC keys and certificates, issued by the test intermediate (RSA), with the validity of the
# RSA set (2024-01-01 to 2054-01-01). Regenerate with `testdata/pki/ec/make.sh`.
#
#   frank@example.com.{pem,crt}   P-256: PKCS#8 key + certificate + intermediate; keyUsage
#                                 digitalSignature, keyAgreement; emailProtection
#   grace@example.org.{pem,crt}   P-384, the same usages; the key as SEC1 `EC PRIVATE KEY`
#   henry@example.net.{pem,crt}   brainpoolP256r1: a curve we refuse by name
#   frank@example.com.p12         frank's key, certificate and chain as PKCS#12 (OpenSSL 3's
#                                 defaults), passphrase `test`
#   encrypted/frank-pkcs8.pem     frank's key as ENCRYPTED PRIVATE KEY (`openssl pkcs8 -topk8`:
#                                 PBES2, PBKDF2-SHA256, AES-256-CBC), passphrase `test`
#   encrypted/frank-sec1.pem      frank's key as SEC1 EC PRIVATE KEY with `Proc-Type:
#                                 4,ENCRYPTED` (`openssl ec -aes256`), passphrase `test`
#
# `make.sh encrypted` remakes only the encrypted copies, from the frank@example.com.pem there is.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

# The encrypted copies of frank's key (in a directory of their own: they are no address's key).
encrypted_copies() {
    mkdir -p encrypted
    openssl pkcs8 -topk8 -in frank@example.com.pem -passout pass:test -out encrypted/frank-pkcs8.pem
    openssl ec -in frank@example.com.pem -aes256 -passout pass:test -out encrypted/frank-sec1.pem 2>/dev/null
}
if [ "${1:-}" = encrypted ]; then
    encrypted_copies
    exit 0
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
. ../ca-config.sh
write_ca_config "$work" 3000

ec_ee() {
    local addr=$1 cn=$2 curve=$3
    openssl genpkey -algorithm EC -pkeyopt "ec_paramgen_curve:$curve" -pkeyopt ec_param_enc:named_curve \
        -out "$work/$addr.key" 2>/dev/null
    openssl req -config "$work/ca.cnf" -new -key "$work/$addr.key" \
        -subj "/O=smime test PKI/CN=$cn/emailAddress=$addr" -out "$work/$addr.csr"
    cat >"$work/$addr.ext" <<EXT
[ ext ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature, keyAgreement
extendedKeyUsage       = emailProtection
subjectAltName         = email:$addr
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid
EXT
    openssl ca -config "$work/ca.cnf" -batch -notext -cert ../intermediate.crt -keyfile ../intermediate.key \
        -startdate 20240101000000Z -enddate 20540101000000Z \
        -extfile "$work/$addr.ext" -extensions ext -in "$work/$addr.csr" -out "$addr.crt" 2>/dev/null
}

ec_ee frank@example.com "Frank EC P-256" P-256
ec_ee grace@example.org "Grace EC P-384" P-384
ec_ee henry@example.net "Henry brainpool" brainpoolP256r1
cat "$work/frank@example.com.key" frank@example.com.crt ../intermediate.crt >frank@example.com.pem
{ openssl ec -in "$work/grace@example.org.key" 2>/dev/null; cat grace@example.org.crt ../intermediate.crt; } \
    >grace@example.org.pem
cat "$work/henry@example.net.key" henry@example.net.crt ../intermediate.crt >henry@example.net.pem
openssl pkcs12 -export -inkey "$work/frank@example.com.key" -in frank@example.com.crt \
    -certfile ../intermediate.crt -name frank@example.com -passout pass:test -out frank@example.com.p12
for a in frank@example.com grace@example.org; do
    openssl verify -CAfile ../ca.crt -untrusted ../intermediate.crt -purpose smimesign "$a.crt" >/dev/null
done
encrypted_copies
