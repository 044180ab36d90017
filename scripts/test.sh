#!/usr/bin/env bash
# Runs the whole test suite: the README's test command.
#
#   scripts/test.sh [extra cargo test arguments]
#
# The interoperability tests read our output with OpenSSL (`openssl cms`), GnuPG (`gpgsm`) and
# NSS (`cmsutil`, Thunderbird's engine) and deliver it through a real Postfix. When run as root,
# this script installs what is missing from Debian (libnss3-tools, gpgsm, postfix) and starts a
# private Postfix on 127.0.0.1 (scripts/postfix-test-env.sh); otherwise those tests print why
# they skip. With SMIME_REQUIRE_INTEROP=1 (CI sets it) a missing tool fails instead.
set -euo pipefail
cd "$(dirname "$0")/.."
PATH=$PATH:/usr/sbin:/sbin

missing=()
command -v openssl >/dev/null || missing+=(openssl)
command -v gpgsm >/dev/null || missing+=(gpgsm)
command -v gpg-agent >/dev/null || missing+=(gpg-agent)
command -v cmsutil >/dev/null || missing+=(libnss3-tools)
command -v smtp-sink >/dev/null || missing+=(postfix)
if ((${#missing[@]})); then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
        echo "test.sh: installing ${missing[*]}" >&2
        export DEBIAN_FRONTEND=noninteractive
        echo "postfix postfix/main_mailer_type select Local only" | debconf-set-selections 2>/dev/null || true
        apt-get update -q >&2
        apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
    else
        echo "test.sh: not installed: ${missing[*]} (tests that need them will say so and skip)" >&2
    fi
fi

postfix_dir=$(mktemp -d "${TMPDIR:-/tmp}/smime-postfix.XXXXXX")
if env_lines=$(SMIME_POSTFIX_DIR="$postfix_dir" scripts/postfix-test-env.sh start "$postfix_dir"); then
    eval "$env_lines"
    trap 'scripts/postfix-test-env.sh stop "$postfix_dir" >/dev/null 2>&1 || true; rm -rf "$postfix_dir"' EXIT
else
    echo "test.sh: could not start a private Postfix (Postfix tests will say so)" >&2
fi

cargo test --workspace "$@"
