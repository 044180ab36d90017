#!/usr/bin/env bash
# Generate the PKCS#12 and encrypted PKCS#8 fixtures of the smime-core unit tests
# (crates/smime-core/src/keys/pkcs12.rs and pbe.rs) from the existing test keys.
#
#   testdata/pki/pkcs12/make.sh      # (re)generate everything in testdata/pki/pkcs12/
#
# Only `openssl` (3.0 or later, with its legacy provider) is used. Salts and IVs are random, so
# the output is not byte-for-byte reproducible, but its shape is. The tests need no openssl:
# the files are committed. Run testdata/pki/make.sh first if the keys themselves change.
# Every passphrase is `test`. Every key is alice@example.com's (TEST-ONLY, published).
#
# Files produced:
#   default.p12      `openssl pkcs12 -export` defaults (OpenSSL 3): PBES2 (PBKDF2-HMAC-SHA256,
#                    AES-256-CBC) for the key bag and the certificate bag, HMAC-SHA256 MAC;
#                    alice's certificate (with localKeyId and friendlyName) + intermediate.crt
#   legacy.p12       `-legacy`: pbeWithSHAAnd3-KeyTripleDES-CBC key bag, pbeWithSHAAnd40BitRC2-CBC
#                    certificate bag, HMAC-SHA1 MAC
#   legacy2.p12      pbeWithSHAAnd2-KeyTripleDES-CBC key bag, pbeWithSHAAnd128BitRC2-CBC
#                    certificate bag, HMAC-SHA1 MAC
#   sha512mac.p12    the defaults with an HMAC-SHA512 MAC
#   nomac.p12        `-nomac`: no MAC (integrity rests on the padding and the key's structure)
#   plain.p12        `-keypbe NONE -certpbe NONE`: an unencrypted keyBag, plain certificate bag,
#                    HMAC-SHA256 MAC
#   twocerts.p12     alice's key and certificate (localKeyId) + bob's certificate (no
#                    localKeyId): the key belongs to one certificate only
#   iter8m.p12       `-iter 8388608` (OpenSSL 3.0 uses it for the MAC too): the tests patch the
#                    MAC's iteration count (0x800000, outside what the MAC covers) to 10,000,001,
#                    one above crate::limits::MAX_PBE_ITERATIONS (takes a few seconds to make)
#   p8-aes256.pem    `openssl pkcs8 -topk8` defaults: PBES2, PBKDF2-HMAC-SHA256, AES-256-CBC
#   p8-scrypt.pem    `-scrypt`: PBES2, scrypt (N 16384, r 8, p 1), AES-256-CBC
#   p8-des3.pem      `-v2 des3`: PBES2, PBKDF2-HMAC-SHA256, DES-EDE3-CBC
#   p8-sha1prf.pem   `-v2prf hmacWithSHA1`: PBES2, PBKDF2-HMAC-SHA1, AES-256-CBC
#   p8-pbe-3des.pem  `-v1 PBE-SHA1-3DES`: pbeWithSHAAnd3-KeyTripleDES-CBC (PKCS#12 KDF)
#   p8-pbe-2des.pem  `-v1 PBE-SHA1-2DES`: pbeWithSHAAnd2-KeyTripleDES-CBC
#   p8-pbe-rc2-128.pem `-v1 PBE-SHA1-RC2-128`: pbeWithSHAAnd128BitRC2-CBC
#   p8-pbe-rc2-40.pem  `-v1 PBE-SHA1-RC2-40`: pbeWithSHAAnd40BitRC2-CBC
#   p8-rc4.pem       `-v1 PBE-SHA1-RC4-128`: pbeWithSHAAnd128BitRC4, which we do not support
#   p8-iter8m.pem    `-iter 8388608`: patched by the tests one above the PBKDF2 iteration limit
#   p8-pbe-iter8m.pem `-v1 PBE-SHA1-3DES -iter 8388608`: patched likewise (PKCS#12 KDF)
#   p8-scrypt64k.pem `-scrypt -scrypt_N 65536 -scrypt_r 2`: patched by the tests to N = 2^21
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

pki="$here/.."
key="$pki/keys/alice@example.com.pem"
crt="$pki/keys/alice@example.com.crt"
pass=pass:test
legacy=(-provider legacy -provider default)

# export OUT [OPTIONS...]: alice's key and certificate as PKCS#12.
export_p12() {
    local out="$1"
    shift
    openssl pkcs12 -export -name alice@example.com -inkey "$key" -in "$crt" \
        -passout "$pass" -out "$out" "$@"
}

export_p12 default.p12 -certfile "$pki/intermediate.crt"
export_p12 legacy.p12 -legacy -certfile "$pki/intermediate.crt"
export_p12 legacy2.p12 "${legacy[@]}" -keypbe PBE-SHA1-2DES -certpbe PBE-SHA1-RC2-128 -macalg sha1
export_p12 sha512mac.p12 -macalg sha512
export_p12 nomac.p12 -nomac
export_p12 plain.p12 -keypbe NONE -certpbe NONE
export_p12 twocerts.p12 -certfile "$pki/keys/bob@example.net.crt"
export_p12 iter8m.p12 -iter 8388608

# topk8 OUT [OPTIONS...]: alice's key as an encrypted PKCS#8 PEM block.
topk8() {
    local out="$1"
    shift
    openssl pkcs8 -topk8 -in "$key" -passout "$pass" -out "$out" "$@"
}

topk8 p8-aes256.pem
topk8 p8-scrypt.pem -scrypt
topk8 p8-des3.pem -v2 des3
topk8 p8-sha1prf.pem -v2prf hmacWithSHA1
topk8 p8-pbe-3des.pem -v1 PBE-SHA1-3DES
topk8 p8-pbe-2des.pem "${legacy[@]}" -v1 PBE-SHA1-2DES
topk8 p8-pbe-rc2-128.pem "${legacy[@]}" -v1 PBE-SHA1-RC2-128
topk8 p8-pbe-rc2-40.pem "${legacy[@]}" -v1 PBE-SHA1-RC2-40
topk8 p8-rc4.pem "${legacy[@]}" -v1 PBE-SHA1-RC4-128
topk8 p8-iter8m.pem -iter 8388608
topk8 p8-pbe-iter8m.pem -v1 PBE-SHA1-3DES -iter 8388608
topk8 p8-scrypt64k.pem -scrypt -scrypt_N 65536 -scrypt_r 2 -scrypt_p 1

# Sanity checks: OpenSSL reads back what it wrote.
for f in *.p12; do
    openssl pkcs12 -in "$f" -passin "$pass" "${legacy[@]}" -noout
done
for f in p8-*.pem; do
    openssl pkey -in "$f" -passin "$pass" "${legacy[@]}" -noout
done
echo "testdata/pki/pkcs12 regenerated: $(ls *.p12 | wc -l) PKCS#12 files, $(ls p8-*.pem | wc -l) PKCS#8 files"
