#!/usr/bin/env bash
# Reproduces the headline comparison in one run, on this machine, and prints ratios:
#
#   benches/compare.sh     # N=10000 messages (20 KB), LOOP_N=40 for the slow loop, RUNS=40,
#                          # ROUNDS=3 alternations of the build-only run and `openssl speed`
#
#   1. build only: `smime --output-dir` (sign+encrypt, aws-lc keys; then the pure-Rust keys)
#      against `openssl speed rsa2048` signatures/s x cores (the hardware's limit for this job),
#      and the "crypto floor": all of this job's cryptography (signature, two key transports,
#      AES-256-CBC, SHA-256) at OpenSSL's speed x cores;
#   2. bulk send into Postfix's smtp-sink: `smime --send-smtp` (building too) against
#      `smtp-source` pushing the same pre-built messages over the same number of connections;
#   3. the approach an operator would script: one `openssl cms -sign | openssl cms -encrypt`
#      plus one `swaks` per message;
#   4. one message end to end, process start to Postfix's `250` (hyperfine, median), next to
#      the same message through the openssl | swaks pipeline;
#   5. peak memory (max RSS) of the bulk run of N messages and of one 5 MB message;
#   6. ECDSA P-256: build only (`smime --output-dir`, aws-lc keys), sign only and sign + ECDH
#      encrypt to an EC recipient, with
#      frank@example.com's key (testdata/pki/ec) on the same N messages sent from Frank,
#      against `openssl speed ecdsap256` signatures/s x cores, measured in the same run.
#
#   ONLY_ECDSA=1 N=2000 benches/compare.sh   # row 6 alone (about a minute; no Postfix needed)
#
# The message is the corpus' 20 KB HTML message from Alice to Bob: one recipient plus the
# sender's own copy. Work files live in /dev/shm when it exists, so the disk is not measured.
# Needs openssl, python3, and (installed from Debian when root and missing) postfix (smtp-sink,
# smtp-source, and a private instance via scripts/postfix-test-env.sh), swaks and hyperfine.
# Nothing leaves 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
PATH=$PATH:/usr/sbin:/sbin
N=${N:-10000}
LOOP_N=${LOOP_N:-40}
CONC=${CONC:-4}
RUNS=${RUNS:-40}
ROUNDS=${ROUNDS:-3}
cores=$(nproc)

need=()
[ "${ONLY_ECDSA:-}" = 1 ] || command -v smtp-sink >/dev/null || need+=(postfix)
[ "${ONLY_ECDSA:-}" = 1 ] || command -v swaks >/dev/null || need+=(swaks)
[ "${ONLY_ECDSA:-}" = 1 ] || command -v hyperfine >/dev/null || need+=(hyperfine)
if ((${#need[@]})); then
    if [ "$(id -u)" -eq 0 ]; then
        export DEBIAN_FRONTEND=noninteractive
        echo "postfix postfix/main_mailer_type select Local only" | debconf-set-selections 2>/dev/null || true
        apt-get update -q >&2 && apt-get install -y -q --no-install-recommends "${need[@]}" >&2
    else
        echo "compare.sh: missing ${need[*]}" >&2
        exit 1
    fi
fi

echo "building smime (release)..." >&2
cargo build -q --release -p smime-cli
smime=${CARGO_TARGET_DIR:-$PWD/target}/release/smime
keys=$PWD/testdata/pki/keys
work=$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d)
sink_pid=
postfix_dir=
cleanup() {
    [ -n "$sink_pid" ] && kill "$sink_pid" 2>/dev/null || true
    [ -n "$postfix_dir" ] && scripts/postfix-test-env.sh stop "$postfix_dir" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

# Peak RSS (KiB) and wall seconds of a command: "SECONDS KIB".
measure() {
    python3 - "$@" <<'PY'
import resource, subprocess, sys, time
t = time.perf_counter()
r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=open('/tmp/compare-last.err', 'wb'))
el = time.perf_counter() - t
if r.returncode != 0:
    sys.exit(f"command failed ({r.returncode}): {' '.join(sys.argv[1:])}\n" + open('/tmp/compare-last.err').read()[-2000:])
print(f"{el:.3f} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}")
PY
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# N distinct 20 KB messages (the corpus' HTML + inline image message to Bob alone, one
# Message-ID each).
mkdir -p "$work/in" "$work/built"
python3 - "$work/in" "$N" <<'PY'
import sys, pathlib
src = pathlib.Path("testdata/corpus/html-inline-image.eml").read_bytes().replace(
    b"To: Bob <bob@example.net>, Carol <carol@example.org>\r\n", b"To: Bob <bob@example.net>\r\n")
out, n = pathlib.Path(sys.argv[1]), int(sys.argv[2])
for i in range(n):
    msg = src.replace(b"Message-ID: <", b"Message-ID: <bench%d." % i, 1)
    (out / f"{i:05d}.eml").write_bytes(msg)
PY
size=$(stat -c %s "$work/in/00000.eml")

load=$(cut -d' ' -f1-3 /proc/loadavg)

# 6. ECDSA P-256, sign only: the same N messages from Frank, a keys directory with Frank's
# key (PKCS#8), certificate and the intermediate only, against `openssl speed ecdsap256`
# (+F4: sign/s, verify/s) x cores. Sets ec_rate, ec_ossl_sign, ec_limit.
ecdsa_row() {
    local line ec_s
    mkdir -p "$work/in-ec" "$work/built-ec" "$work/keys-ec"
    cp testdata/pki/ec/frank@example.com.pem testdata/pki/ec/frank@example.com.crt \
        testdata/pki/ec/grace@example.org.crt "$work/keys-ec/"
    python3 - "$work/in" "$work/in-ec" <<'PY'
import sys, pathlib
src, dst = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
for f in sorted(src.glob("*.eml")):
    (dst / f.name).write_bytes(f.read_bytes().replace(
        b"From: Alice <alice@example.com>\r\n", b"From: Frank <frank@example.com>\r\n", 1
    ).replace(b"To: Bob <bob@example.net>\r\n", b"To: Grace <grace@example.org>\r\n", 1))
PY
    line=$(openssl speed -seconds 3 -mr ecdsap256 2>/dev/null | awk -F: '/^\+F4:/ {print; exit}')
    # Older OpenSSL prints seconds per operation instead of operations per second.
    ec_ossl_sign=$(python3 -c "s = float('$(cut -d: -f4 <<<"$line")'); print(f'{1/s if s < 1 else s:.0f}')")
    read -r ec_s _ < <(measure "$smime" "$work/in-ec" --keys "$work/keys-ec" --sign --quiet --output-dir "$work/built-ec")
    ec_rate=$(python3 -c "print(f'{$N/$ec_s:.0f}')")
    # Sign + encrypt to Grace (EC P-384) and Frank's own copy (EC P-256): two ECDH agreements.
    rm -rf "$work/built-ec" && mkdir -p "$work/built-ec"
    read -r ec_enc_s _ < <(measure "$smime" "$work/in-ec" --keys "$work/keys-ec" --sign --encrypt --quiet --output-dir "$work/built-ec")
    ec_enc_rate=$(python3 -c "print(f'{$N/$ec_enc_s:.0f}')")
    ec_limit=$(python3 -c "print(int($ec_ossl_sign) * $cores)")
    rm -rf "$work/in-ec" "$work/built-ec" "$work/keys-ec"
}
ecdsa_line() {
    echo "| build only, ECDSA P-256 sign only, smime --sign --output-dir ($N messages from frank@example.com, aws-lc keys) | $ec_rate msg/s | $(python3 -c "print(f'{$ec_rate/$ec_limit:.2f}')") x (openssl speed ecdsap256 x $cores = $ec_limit sign/s) |"
    echo "| build only, ECDSA P-256 sign + ECDH encrypt to grace@example.org (P-384) and the own copy (P-256) | $ec_enc_rate msg/s | $(python3 -c "print(f'{$ec_enc_rate/$ec_limit:.2f}')") x the same |"
}
if [ "${ONLY_ECDSA:-}" = 1 ]; then
    ecdsa_row
    echo "machine: $cores cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(date -u +%Y-%m-%d); message: $size bytes; load before: $load"
    ecdsa_line
    exit 0
fi

# 1. Build only, against `openssl speed rsa2048`. The VM's speed drifts by 10-20 % within
# minutes, so the two alternate, ROUNDS times each, and the ratio is of the medians. One
# `openssl speed` run gives both rates: signatures ($4) and verifications ($5).
# Extra arguments go to `openssl speed` (`-multi N` below).
ossl_rsa_round() {
    local line sign verify
    line=$(openssl speed "$@" -seconds 3 -mr rsa2048 2>/dev/null | awk -F: '/^\+F2:/ {print; exit}')
    sign=$(cut -d: -f4 <<<"$line")
    verify=$(cut -d: -f5 <<<"$line")
    # Older OpenSSL prints seconds per operation instead of operations per second.
    python3 -c "s, v = float('$sign'), float('$verify'); print(f'{1/s if s < 1 else s:.0f} {1/v if v < 1 else v:.0f}')"
}
build_rates=() sign_rates=() verify_rates=() multi_rates=() round_ratios=()
for ((round = 1; round <= ROUNDS; round++)); do
    read -r r_sign r_verify < <(ossl_rsa_round)
    # `-multi` runs one process per core at once: what all cores together sign, for comparison
    # (on this VM it has differed from one core's rate x cores by up to 10 %, either way).
    read -r r_multi _ < <(ossl_rsa_round -multi "$cores")
    multi_rates+=("$r_multi")
    out="$work/built"
    ((round > 1)) && out="$work/built-$round"
    mkdir -p "$out"
    read -r r_s _ < <(measure "$smime" "$work/in" --keys "$keys" --sign --encrypt --quiet --output-dir "$out")
    ((round > 1)) && rm -rf "$out"
    r_rate=$(python3 -c "print(f'{$N/$r_s:.0f}')")
    build_rates+=("$r_rate") sign_rates+=("$r_sign") verify_rates+=("$r_verify")
    round_ratios+=("$(python3 -c "print(f'{$r_rate/($r_sign*$cores):.2f}')")")
    echo "round $round: smime $r_rate msg/s, openssl speed $r_sign sign/s per core, -multi $cores ${multi_rates[-1]} sign/s" >&2
done
median() { python3 -c "import statistics, sys; print(f'{statistics.median(map(float, sys.argv[1:])):.0f}')" "$@"; }
build_rate=$(median "${build_rates[@]}")
ossl_sign=$(median "${sign_rates[@]}")
ossl_verify=$(median "${verify_rates[@]}")
hw_limit=$(python3 -c "print(int($ossl_sign) * $cores)")
multi_limit=$(median "${multi_rates[@]}")
# The pure-Rust keys sign about ten times slower: time the first RC_N messages.
mkdir -p "$work/built-rc"
RC_N=$((N < 2000 ? N : 2000))
mkdir -p "$work/in-rc"
in_all=("$work"/in/*.eml)
ln "${in_all[@]:0:$RC_N}" "$work/in-rc/"
read -r rc_s _ < <(measure "$smime" "$work/in-rc" --keys "$keys" --key-backend rustcrypto --sign --encrypt --quiet --output-dir "$work/built-rc")
rc_rate=$(python3 -c "print(f'{$RC_N/$rc_s:.0f}')")
rm -rf "$work/built-rc" "$work/in-rc"
ecdsa_row
# The crypto floor: what this job's cryptography alone costs at OpenSSL's speed, per message:
# one RSA-2048 signature, two public-key operations (key transport to Bob and to the sender;
# `verify` is the same operation), AES-256-CBC over the enveloped content (three quarters of
# the built file, which is base64) and SHA-256 over the message. Everything else (MIME,
# base64, reading and writing files) has to fit between this floor and the target.
ossl_aes=$(openssl speed -mr -seconds 1 -bytes 16384 -evp aes-256-cbc 2>/dev/null | awk -F: '/^\+F:/ {print $4; exit}')
ossl_sha=$(openssl speed -mr -seconds 1 -bytes 16384 -evp sha256 2>/dev/null | awk -F: '/^\+F:/ {print $4; exit}')
built_size=$(stat -c %s "$(ls "$work"/built/*.eml | head -1)")
floor_rate=$(python3 -c "
sign = float('$ossl_sign'); ver = float('$ossl_verify')
per = 1/sign + 2/ver + $built_size*0.75/float('$ossl_aes') + $size/float('$ossl_sha')
print(f'{$cores/per:.0f}')")

# 2. Bulk send into smtp-sink, and smtp-source with the same pre-built messages.
port=$(free_port)
sink_user=()
[ "$(id -u)" -eq 0 ] && sink_user=(-u nobody)
smtp-sink "${sink_user[@]}" "127.0.0.1:$port" 1000 &
sink_pid=$!
sleep 0.5
read -r send_s send_kib < <(SMTP_HOST=127.0.0.1 SMTP_PORT=$port measure "$smime" "$work/in" --keys "$keys" --sign --encrypt --send-smtp --concurrency "$CONC" --quiet)
send_rate=$(python3 -c "print(f'{$N/$send_s:.0f}')")
built_all=("$work"/built/*.eml)
built_one=$(basename "${built_all[0]}")
read -r src_s _ < <(measure smtp-source -s "$CONC" -m "$N" -f alice@example.com -t bob@example.net -F "$work/built/$built_one" "127.0.0.1:$port")
src_rate=$(python3 -c "print(f'{$N/$src_s:.0f}')")

# 3. One openssl | openssl | swaks per message.
loop() {
    local all=("$work"/in/*.eml)
    for f in "${all[@]:0:$LOOP_N}"; do
        f=$(basename "$f")
        openssl cms -sign -nodetach -md sha256 -signer "$keys/alice@example.com.pem" -in "$work/in/$f" \
            | openssl cms -encrypt -aes256 "$keys/bob@example.net.crt" "$keys/alice@example.com.crt" \
            > "$work/loop.eml"
        swaks --silent 2 --server 127.0.0.1 --port "$port" --from alice@example.com --to bob@example.net --data "$work/loop.eml" >/dev/null
    done
}
export -f loop
export work keys port LOOP_N
read -r loop_s _ < <(measure bash -c loop)
loop_rate=$(python3 -c "print(f'{$LOOP_N/$loop_s:.1f}')")

# 4. One message end to end into a real Postfix (a private instance on a free port).
postfix_dir="$work/postfix"
pf_port=$(free_port)
chmod 755 "$work" # Postfix's own users must reach their folders inside it
pf_env=$(SMIME_POSTFIX_PORT=$pf_port scripts/postfix-test-env.sh start "$postfix_dir")
eval "$pf_env"
one="$work/in/00000.eml"
hyperfine -N --warmup 5 --runs "$RUNS" --export-json "$work/e2e.json" \
    "$smime $one --keys $keys --sign --encrypt --send-smtp --smtp-host 127.0.0.1 --smtp-port $pf_port --quiet" >&2
e2e_ms=$(python3 -c "import json; r=json.load(open('$work/e2e.json'))['results'][0]; print(f\"{r['median']*1000:.1f}\")")
hyperfine --warmup 2 --runs 10 --export-json "$work/e2e-loop.json" \
    "openssl cms -sign -nodetach -md sha256 -signer $keys/alice@example.com.pem -in $one | openssl cms -encrypt -aes256 $keys/bob@example.net.crt $keys/alice@example.com.crt > $work/one.p7m && swaks --silent 2 --server 127.0.0.1 --port $pf_port --from alice@example.com --to bob@example.net --data $work/one.p7m" >&2
loop_ms=$(python3 -c "import json; r=json.load(open('$work/e2e-loop.json'))['results'][0]; print(f\"{r['median']*1000:.1f}\")")
scripts/postfix-test-env.sh stop "$postfix_dir" >/dev/null 2>&1 || true
postfix_dir=

# 5. One 5 MB message.
python3 - "$work/big.eml" <<'PY'
import sys, base64, hashlib
data = b"".join(hashlib.sha256(i.to_bytes(8, "big")).digest() for i in range(5 * 1024 * 1024 // 32))
b64 = base64.encodebytes(data).replace(b"\n", b"\r\n")
head = (b"From: alice@example.com\r\nTo: bob@example.net\r\nSubject: 5 MB\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nbig\r\n"
        b"--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n"
        b"Content-Disposition: attachment; filename=big.bin\r\n\r\n")
open(sys.argv[1], "wb").write(head + b64 + b"\r\n--b--\r\n")
PY
big_size=$(stat -c %s "$work/big.eml")
read -r _ big_kib < <(measure "$smime" "$work/big.eml" --keys "$keys" --sign --encrypt -o "$work/big.out")

ratio() { python3 -c "print(f'{$1/$2:.2f}')"; }
cat <<TABLE
machine: $cores cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(date -u +%Y-%m-%d)
message: $size bytes, sign+encrypt (RSA-2048), recipients: To bob + the sender; load before: $load

| measurement | value | ratio |
| --- | --- | --- |
| build only, smime --output-dir ($N messages, aws-lc keys; median of $ROUNDS) | $build_rate msg/s | $(ratio "$build_rate" "$hw_limit") x (openssl speed rsa2048 x $cores = $hw_limit sign/s, median of $ROUNDS); each round: ${round_ratios[*]} |
| the same, against \`openssl speed -multi $cores rsa2048\` (all cores signing at once, median of $ROUNDS) | $multi_limit sign/s | smime reaches $(ratio "$build_rate" "$multi_limit") x |
| crypto floor: the same job's cryptography at OpenSSL's speed x $cores | $floor_rate msg/s | $(ratio "$floor_rate" "$hw_limit") x; smime reaches $(ratio "$build_rate" "$floor_rate") x of it |
| build only, pure-Rust keys (--key-backend rustcrypto, $RC_N messages) | $rc_rate msg/s | $(ratio "$rc_rate" "$hw_limit") x |
$(ecdsa_line)
| bulk send to smtp-sink, smime ($N, $CONC connections, building too) | $send_rate msg/s | $(ratio "$send_rate" "$src_rate") x smtp-source |
| smtp-source, same pre-built messages, $CONC connections | $src_rate msg/s | |
| openssl cms sign + encrypt + swaks, one per message ($LOOP_N) | $loop_rate msg/s | smime is $(ratio "$send_rate" "$loop_rate") x faster |
| one message end to end, process start to Postfix's 250 (median of $RUNS) | $e2e_ms ms | openssl cms \| swaks: $loop_ms ms |
| peak memory, bulk run of $N | $((send_kib / 1024)) MiB | |
| peak memory, one $((big_size / 1024 / 1024)) MB message | $((big_kib / 1024)) MiB | $(ratio "$big_kib" "$((big_size / 1024))") x message size (target 6 x size + 16 MB = $(( (6 * big_size / 1024 + 16384) / 1024 )) MiB) |
TABLE
