#!/usr/bin/env bash
# Fuzzing with cargo-fuzz (libFuzzer) on the stable toolchain. See fuzz/README.md.
#
#   scripts/fuzz.sh seed                 # fuzz/corpus/<target>/ from the repository's test data
#   scripts/fuzz.sh build                # build every target
#   scripts/fuzz.sh smoke [SECONDS]      # seed, build, run every target SECONDS (default 10)
#                                        # and fail on any crash, timeout or leak (CI)
#   scripts/fuzz.sh run TARGET SECONDS   # one long run; log in fuzz/logs/, summary printed
#   scripts/fuzz.sh replay [TARGET...]   # run every seed and corpus file once, no fuzzing
#   scripts/fuzz.sh list                 # the targets
#
# Environment: FUZZ_BUILD_FLAGS (default "-O --debug-assertions --sanitizer none": release
# code with overflow checks and debug assertions; our crates forbid unsafe code, so the
# address sanitizer would mostly slow the search down; set "-O -a" to add it),
# FUZZ_ARGS (extra libFuzzer flags), FUZZ_TIMEOUT (seconds one input may take, default 25),
# FUZZ_SEED and FUZZ_SMOKE_RUNS (libFuzzer's seed and number of runs for smoke runs,
# default 1 and 5000; long runs are random and timed).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
FUZZ=$ROOT/fuzz
export RUSTC_BOOTSTRAP=1 # cargo-fuzz passes -Z flags; there is no nightly here
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
read -r -a BUILD_FLAGS <<<"${FUZZ_BUILD_FLAGS:--O --debug-assertions --sanitizer none}"
read -r -a EXTRA_ARGS <<<"${FUZZ_ARGS:-}"
TIMEOUT=${FUZZ_TIMEOUT:-25}
SEED_ARGS=()

targets() {
    sed -n 's/^name = "\(.*\)"$/\1/p' "$FUZZ/Cargo.toml" | grep -v '^smime-fuzz$'
}

need_cargo_fuzz() {
    if ! cargo fuzz --version >/dev/null 2>&1; then
        echo "== installing cargo-fuzz"
        cargo install cargo-fuzz --locked
    fi
}

# PEM file -> DER of its N-th block (0-based) with the given label.
pem_block_der() {
    local file=$1 label=$2 n=${3:-0}
    awk -v label="$label" -v want="$n" '
        $0 == "-----BEGIN " label "-----" { inside = 1; next }
        $0 == "-----END " label "-----" { if (inside && count == want) exit; inside = 0; count++; next }
        inside && count == want { print }
    ' "$file" | base64 -d
}

# seed: fuzz/corpus/<target>/ from the test data. The committed, curated seeds in
# fuzz/seeds/<target>/ are read from there directly by every run.
cmd_seed() {
    local c=$FUZZ/corpus t f name
    for t in $(targets); do mkdir -p "$c/$t"; done

    # prepare and protect: the message corpus (not the 820 KB attachment) and the demo.
    # protect's first byte picks the options: one copy per option set.
    for f in "$ROOT"/testdata/corpus/*.eml "$ROOT"/demo/message.eml; do
        name=$(basename "$f")
        [ "$name" = big-attachment.eml ] && continue
        [ "$f" = "$ROOT/demo/message.eml" ] && name=demo-message.eml
        cp "$f" "$c/prepare/$name"
        for mode in 0 1 2 3 4; do
            { printf "\\x0$mode"; cat "$f"; } >"$c/protect/$mode-$name"
        done
    done

    # keys: every key and certificate file, raw (mode 0x00); the DER of certificates and
    # keys raw and to be armored by the target (mode 0x01 | label << 2).
    local pem der
    for f in "$ROOT"/testdata/pki/keys/*.pem "$ROOT"/testdata/pki/keys/*.crt \
        "$ROOT"/testdata/pki/bad/*.pem "$ROOT"/testdata/pki/bad/*.crt \
        "$ROOT"/testdata/pki/ca.crt "$ROOT"/testdata/pki/intermediate.crt "$ROOT"/demo/keys/*; do
        [ -f "$f" ] || continue
        # RSA-16384 keys cost seconds per load: not a seed.
        case $f in *rsa16384*) continue ;; esac
        name=$(basename "$f")
        case $f in "$ROOT"/demo/*) name=demo-$name ;; esac
        { printf '\x00'; cat "$f"; } >"$c/keys/raw-$name"
    done
    for f in "$ROOT"/testdata/pki/keys/alice@example.com.crt "$ROOT"/testdata/pki/keys/bob@example.net.crt \
        "$ROOT"/testdata/pki/bad/expired@example.com.crt "$ROOT"/testdata/pki/bad/noeku@example.com.crt \
        "$ROOT"/testdata/pki/intermediate.crt; do
        name=$(basename "$f" .crt)
        der=$(mktemp)
        if command -v openssl >/dev/null; then
            openssl x509 -in "$f" -outform DER -out "$der"
        else
            pem_block_der "$f" CERTIFICATE >"$der"
        fi
        { printf '\x00'; cat "$der"; } >"$c/keys/der-cert-$name"  # DER file
        { printf '\x01'; cat "$der"; } >"$c/keys/armor-cert-$name" # CERTIFICATE
        { printf '\x22'; cat "$der"; } >"$c/keys/bag-cert-$name"   # text around, CRLF
        rm -f "$der"
    done
    for f in "$ROOT"/testdata/pki/keys/alice@example.com.pem "$ROOT"/testdata/pki/bad/weak@example.com.pem \
        "$ROOT"/testdata/pki/bad/mismatch@example.com.pem; do
        name=$(basename "$f" .pem)
        der=$(mktemp)
        if command -v openssl >/dev/null; then
            openssl pkey -in "$f" -outform DER -out "$der" 2>/dev/null
            { printf '\x09'; openssl rsa -in "$f" -traditional -outform DER 2>/dev/null; } \
                >"$c/keys/armor-pkcs1-$name" # RSA PRIVATE KEY
        else
            pem_block_der "$f" "PRIVATE KEY" >"$der"
        fi
        { printf '\x00'; cat "$der"; } >"$c/keys/der-pkcs8-$name"
        { printf '\x05'; cat "$der"; } >"$c/keys/armor-pkcs8-$name" # PRIVATE KEY
        { printf '\x07'; cat "$der"; } >"$c/keys/withcert-pkcs8-$name" # + alice's cert
        rm -f "$der"
    done

    # key_passphrase: PKCS#12 files (mode 0x00: key.p12) and encrypted PEM keys (0x01:
    # key.pem), all with the passphrase `test` the target gives.
    if [ -d "$c/key_passphrase" ]; then
        for f in "$ROOT"/testdata/pki/keys/*.p12 "$ROOT"/testdata/pki/pkcs12/*.p12 \
            "$ROOT"/testdata/pki/pkcs12/*.pfx; do
            [ -f "$f" ] && { printf '\x00'; cat "$f"; } >"$c/key_passphrase/p12-$(basename "$f")"
        done
        for f in "$ROOT"/testdata/pki/encrypted/alice-*.pem "$ROOT"/testdata/pki/pkcs12/*.pem; do
            [ -f "$f" ] && { printf '\x01'; cat "$f"; } >"$c/key_passphrase/pem-$(basename "$f")"
        done
    fi

    # cms: S/MIME messages and their DER, when the target exists.
    if [ -d "$c/cms" ] && targets | grep -qx cms; then
        seed_cms "$c/cms"
    fi

    # inspect: the messages (mode 0) and cms's seeds: its messages (0) and DER (1, wrapped by
    # the target in a pkcs7-mime part).
    if [ -d "$c/inspect" ] && targets | grep -qx inspect; then
        for f in "$c"/prepare/*; do { printf '\x00'; cat "$f"; } >"$c/inspect/msg-$(basename "$f")"; done
        for f in "$c"/cms/msg-* "$c"/cms/der-*; do [ -f "$f" ] && cp "$f" "$c/inspect/"; done
    fi

    for t in $(targets); do
        printf '%-14s %4s seeds in fuzz/corpus/%s, %3s in fuzz/seeds/%s\n' "$t" \
            "$(find "$c/$t" -type f | wc -l)" "$t" "$(find "$FUZZ/seeds/$t" -type f 2>/dev/null | wc -l)" "$t"
    done
}

# cms seeds: what `openssl cms` makes from the corpus with the test keys. The target's
# first byte says what the rest is (see fuzz_targets/cms.rs): 0 a whole message, 1 DER.
seed_cms() {
    local out=$1 k=$ROOT/testdata/pki/keys tmp f name
    command -v openssl >/dev/null || { echo "openssl missing: no cms seeds" >&2; return 0; }
    tmp=$(mktemp -d)
    for f in plain.eml utf8-8bit.eml qp-and-text-attachment.eml; do
        name=${f%.eml}
        openssl cms -sign -signer "$k/alice@example.com.pem" -in "$ROOT/testdata/corpus/$f" \
            -nodetach -out "$tmp/$name-opaque.eml" 2>/dev/null
        openssl cms -sign -signer "$k/alice@example.com.pem" -in "$ROOT/testdata/corpus/$f" \
            -out "$tmp/$name-detached.eml" 2>/dev/null
        openssl cms -encrypt -aes256 -in "$ROOT/testdata/corpus/$f" -out "$tmp/$name-enveloped.eml" \
            "$k/bob@example.net.crt" "$k/carol@example.org.crt" 2>/dev/null
        openssl cms -encrypt -aes128 -in "$tmp/$name-opaque.eml" -out "$tmp/$name-signed-enveloped.eml" \
            "$k/bob@example.net.crt" 2>/dev/null
    done
    # Our own output: the golden files (to Bob and others, signed by Alice).
    for f in "$ROOT"/crates/smime-core/tests/golden/*.eml; do
        [ -f "$f" ] && cp "$f" "$tmp/golden-$(basename "$f")"
    done
    for f in "$tmp"/*.eml; do
        name=$(basename "$f" .eml)
        { printf '\x00'; cat "$f"; } >"$out/msg-$name"
        { printf '\x02'; cat "$f"; } >"$out/nokey-$name"
        if openssl cms -cmsout -in "$f" -outform DER -out "$tmp/$name.der" 2>/dev/null; then
            { printf '\x01'; cat "$tmp/$name.der"; } >"$out/der-$name"
            case $name in
            *enveloped* | *encrypt*) { printf '\x03'; cat "$tmp/$name.der"; } >"$out/wrap-$name" ;;
            *) { printf '\x04'; cat "$tmp/$name.der"; } >"$out/wrap-$name" ;;
            esac
        fi
    done
    rm -rf "$tmp"
}

cmd_build() {
    need_cargo_fuzz
    echo "== cargo fuzz build ${BUILD_FLAGS[*]}"
    (cd "$ROOT" && cargo fuzz build "${BUILD_FLAGS[@]}")
}

# run_target TARGET SECONDS LOG: fuzz for SECONDS, corpus in fuzz/corpus/TARGET (grows),
# the committed seeds read as well; crashes go to fuzz/artifacts/TARGET.
run_target() {
    local t=$1 secs=$2 log=$3 seeds=()
    mkdir -p "$FUZZ/corpus/$t" "$FUZZ/artifacts/$t"
    [ -d "$FUZZ/seeds/$t" ] && seeds=("$FUZZ/seeds/$t")
    (cd "$ROOT" && cargo fuzz run "${BUILD_FLAGS[@]}" "$t" "$FUZZ/corpus/$t" "${seeds[@]}" -- \
        -max_total_time="$secs" -timeout="$TIMEOUT" -print_final_stats=1 \
        -artifact_prefix="$FUZZ/artifacts/$t/" "${SEED_ARGS[@]}" "${EXTRA_ARGS[@]}") >"$log" 2>&1
}

# The numbers of a finished run, from libFuzzer's log.
summary() {
    local t=$1 log=$2 last units secs
    last=$(grep -E '^#[0-9]+' "$log" | grep -E 'cov: |DONE' | tail -1 || true)
    units=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
    printf '%s: %s executions in %ss (%s exec/s); %s\n' "$t" "${units:-?}" "${secs:-?}" \
        "$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)" "${last:-no status line}"
    printf '%s: corpus %s files (%s)\n' "$t" "$(find "$FUZZ/corpus/$t" -type f | wc -l)" \
        "$(du -sh "$FUZZ/corpus/$t" | cut -f1)"
}

# The keys target's per-process directories, of processes that are gone (another run may
# be going on at the same time).
cleanup_tmp() {
    local d pid
    for d in /dev/shm/smime-fuzz-keys-* "${TMPDIR:-/tmp}"/smime-fuzz-keys-*; do
        [ -d "$d" ] || continue
        pid=${d##*-}
        kill -0 "$pid" 2>/dev/null || rm -rf "$d"
    done
}

cmd_smoke() {
    local secs=${1:-10} t log failed=() started=$SECONDS
    # A fixed libFuzzer seed and number of runs (SECONDS is only an upper bound): the same
    # inputs in the same order on every machine, however fast, so that a smoke run that
    # passed here passes in CI. Long runs keep random seeds and search much further; what
    # they find is in fuzz/README.md.
    SEED_ARGS=(-seed="${FUZZ_SEED:-1}" -runs="${FUZZ_SMOKE_RUNS:-5000}")
    need_cargo_fuzz
    cmd_seed >/dev/null
    cmd_build
    mkdir -p "$FUZZ/logs"
    for t in $(targets); do
        log=$FUZZ/logs/smoke-$t.log
        echo "== fuzz $t for ${secs}s"
        if run_target "$t" "$secs" "$log"; then
            summary "$t" "$log"
        else
            echo "FAILED: $t (log: $log)"
            grep -E 'panicked|ERROR: libFuzzer|SUMMARY|Test unit written' "$log" | head -20 || true
            failed+=("$t")
        fi
    done
    cleanup_tmp
    echo "== fuzz smoke: $((SECONDS - started))s"
    if [ ${#failed[@]} -gt 0 ]; then
        echo "fuzz smoke failed: ${failed[*]} (inputs in fuzz/artifacts/)"
        exit 1
    fi
}

cmd_run() {
    local t=${1:?usage: scripts/fuzz.sh run TARGET SECONDS} secs=${2:?usage: scripts/fuzz.sh run TARGET SECONDS}
    targets | grep -qx "$t" || { echo "no target $t; targets: $(targets | xargs)"; exit 2; }
    need_cargo_fuzz
    [ -d "$FUZZ/corpus/$t" ] && [ -n "$(ls -A "$FUZZ/corpus/$t")" ] || cmd_seed >/dev/null
    mkdir -p "$FUZZ/logs"
    local log rc=0
    log=$FUZZ/logs/run-$t-$(date -u +%Y%m%dT%H%M%SZ).log
    echo "== fuzz $t for ${secs}s; log: ${log#"$ROOT"/}"
    run_target "$t" "$secs" "$log" || rc=$?
    cleanup_tmp
    summary "$t" "$log"
    if [ $rc -ne 0 ]; then
        echo "CRASH or failure in $t (exit $rc): see $log and fuzz/artifacts/$t/"
        grep -E 'panicked|ERROR: libFuzzer|SUMMARY|Test unit written' "$log" | head -20 || true
    fi
    return $rc
}

cmd_replay() {
    local t d dirs list=("$@") rc=0 log
    need_cargo_fuzz
    [ ${#list[@]} -gt 0 ] || mapfile -t list < <(targets)
    mkdir -p "$FUZZ/logs"
    for t in "${list[@]}"; do
        dirs=()
        for d in "$FUZZ/seeds/$t" "$FUZZ/corpus/$t"; do [ -d "$d" ] && dirs+=("$d"); done
        [ ${#dirs[@]} -gt 0 ] || continue
        log=$FUZZ/logs/replay-$t.log
        if (cd "$ROOT" && cargo fuzz run "${BUILD_FLAGS[@]}" "$t" "${dirs[@]}" -- -runs=0 \
            -timeout="$TIMEOUT") >"$log" 2>&1; then
            echo "$t: $(grep -E '^#[0-9]+[[:space:]]+(INITED|DONE)' "$log" | tail -1)"
        else
            echo "FAILED: $t (log: $log)"
            grep -E 'panicked|ERROR: libFuzzer|SUMMARY' "$log" | head -20 || true
            rc=1
        fi
    done
    cleanup_tmp
    return $rc
}

case ${1:-} in
seed) cmd_seed ;;
build) cmd_build ;;
smoke) cmd_smoke "${2:-10}" ;;
run) cmd_run "${2:-}" "${3:-}" ;;
replay) shift; cmd_replay "$@" ;;
list) targets ;;
*)
    sed -n '2,15p' "$0"
    exit 2
    ;;
esac
