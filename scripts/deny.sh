#!/usr/bin/env bash
# cargo deny, without network access: advisories (against the RustSec snapshot in
# ../shared/advisory-db), licenses, bans and sources, as deny.toml says.
#
# cargo-deny is installed when missing (`cargo install cargo-deny --locked`, a few minutes).
# It reads its database from <db-path>/advisory-db-3157b0e258782691 (db-path is
# target/advisory-dbs in deny.toml) and wants a git repository there, so the snapshot is
# copied and committed there (see ../shared/reference/stack.md).
#
# The snapshot: $SMIME_ADVISORY_DB, else shared/advisory-db next to the repository or next
# to one of its parent directories (../shared/advisory-db in a checkout and in CI, see
# ../shared/README.md), else /work/shared/advisory-db (this project's machines). When none
# is found the advisory check cannot run: that fails under CI (SMIME_REQUIRE_INTEROP=1 or
# CI set) and is skipped with the reason otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

required() { [ "${SMIME_REQUIRE_INTEROP:-}" = 1 ] || [ -n "${CI:-}" ]; }
skip_or_fail() {
    if required; then
        echo "deny.sh: $1" >&2
        exit 1
    fi
    echo "skipping: cargo deny: $1"
    exit 0
}

# The snapshot of the advisory database.
src=${SMIME_ADVISORY_DB:-}
if [ -z "$src" ]; then
    dir=$root
    while :; do
        if [ -f "$dir/../shared/advisory-db/SNAPSHOT" ]; then
            src=$(cd "$dir/../shared/advisory-db" && pwd)
            break
        fi
        [ "$dir" = / ] && break
        dir=$(dirname "$dir")
    done
    if [ -z "$src" ] && [ -f /work/shared/advisory-db/SNAPSHOT ]; then
        src=/work/shared/advisory-db
    fi
fi
if [ -z "$src" ] || [ ! -d "$src/crates" ]; then
    skip_or_fail "no advisory database snapshot (looked for ${SMIME_ADVISORY_DB:-../shared/advisory-db} \
from $root and its parents; set SMIME_ADVISORY_DB to a copy of rustsec/advisory-db)"
fi

if ! command -v cargo-deny >/dev/null 2>&1; then
    echo "deny.sh: installing cargo-deny (cargo install cargo-deny --locked; a few minutes)"
    cargo install cargo-deny --locked
fi

# The copy cargo-deny reads, a git repository; refreshed when the snapshot changes.
db=$root/target/advisory-dbs/advisory-db-3157b0e258782691
stamp() { cat "$1/SNAPSHOT" 2>/dev/null || echo none; }
if [ ! -d "$db/.git" ] || [ "$(stamp "$src")" != "$(stamp "$db")" ]; then
    rm -rf "$db"
    mkdir -p "$db"
    cp -R "$src/." "$db/"
    rm -rf "$db/.git"
    git -C "$db" -c init.defaultBranch=main init -q
    git -C "$db" add -A
    git -C "$db" -c user.name="smime deny.sh" -c user.email="deny@smime.invalid" \
        -c commit.gpgsign=false commit -q -m "snapshot: $(stamp "$src")"
fi
echo "advisory database: $(stamp "$db")"

# cargo-deny reads the metadata offline, which needs every platform's crates in the local
# registry (windows-sys too): a fresh machine has only the host's, so fetch them first.
cargo fetch --locked --quiet
cargo deny --offline check advisories licenses bans sources
