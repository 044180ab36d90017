# Sourced by make.sh, make-bench-keys.sh and make-rsa16384.sh. A minimal `openssl ca`
# configuration in a scratch folder. A database there, every DN field but the common name
# optional and kept in request order, extensions given per certificate with -extfile.
#
#   write_ca_config WORK FIRST_SERIAL      # writes WORK/ca.cnf and WORK/db/
write_ca_config() {
    local work=$1 serial=$2
    mkdir -p "$work/db"
    : >"$work/db/index.txt"
    echo "$serial" >"$work/db/serial"
    cat >"$work/ca.cnf" <<CNF
[ ca ]
default_ca = test_ca

[ test_ca ]
database        = $work/db/index.txt
serial          = $work/db/serial
new_certs_dir   = $work/db
default_md      = sha256
policy          = policy_anything
preserve        = yes
email_in_dn     = yes
unique_subject  = no
copy_extensions = none

[ policy_anything ]
countryName            = optional
organizationName       = optional
organizationalUnitName = optional
commonName             = supplied
emailAddress           = optional

[ req ]
distinguished_name = req_dn
prompt             = no
[ req_dn ]
CN = unused
CNF
}

# An end-entity certificate for ADDR's KEY from the test intermediate (run in testdata/pki/),
# with the extensions and dates of keys/ (make.sh): used by make-bench-keys.sh and
# make-rsa16384.sh, which add keys without regenerating the rest.
#
#   issue_end_entity WORK KEY ADDR COMMON_NAME OUT_CRT
issue_end_entity() {
    local work=$1 key=$2 addr=$3 name=$4 out=$5
    cat >"$work/ext" <<EXT
[ ext ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature, keyEncipherment
extendedKeyUsage       = emailProtection
subjectAltName         = email:$addr
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid
EXT
    openssl req -config "$work/ca.cnf" -new -key "$key" \
        -subj "/O=smime test PKI/CN=$name/emailAddress=$addr" -out "$work/req.csr"
    openssl ca -config "$work/ca.cnf" -batch -notext -cert intermediate.crt -keyfile intermediate.key \
        -startdate 20240101000000Z -enddate 20540101000000Z \
        -extfile "$work/ext" -extensions ext -in "$work/req.csr" -out "$out" 2>/dev/null
    openssl verify -CAfile ca.crt -untrusted intermediate.crt "$out" >/dev/null
}
