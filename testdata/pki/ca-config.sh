# Sourced by make.sh, make-bench-keys.sh and make-rsa16384.sh: a minimal `openssl ca`
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
