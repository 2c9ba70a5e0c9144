#!/usr/bin/env bash
# Crash safety: SIGKILL the helper at random moments of a cold `go build std`, ITERATIONS times on one local store
# (each build goes on from what the killed ones stored), then `cacheprog verify` must find nothing damaged, a build
# must succeed with hits, and a second build must hit everything. Results: RELIABILITY.md.
#   scripts/kill-helper.sh CACHEPROG [ITERATIONS] [MAX_DELAY_MS]    (defaults: 50 iterations, kills within 4000 ms)
# SEED=N fixes the random delays. Prints a summary line; exits non-zero on any damage or failed build.
set -euo pipefail
cacheprog=$(realpath "${1:?usage: scripts/kill-helper.sh CACHEPROG [ITERATIONS] [MAX_DELAY_MS]}")
iterations=${2:-50}
max_delay=${3:-4000}
cd "$(dirname "$0")/.."
go=${CASBRIDGE_TEST_GO:-$PWD/.tools/gobin/go}
work=$(mktemp -d)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
store=$work/store

# The wrapper records the helper's pid (exec keeps it), so the loop kills exactly the helper, not the go command.
cat >"$work/helper" <<EOF
#!/bin/sh
echo \$\$ >"$work/helper.pid"
exec "$cacheprog" --dir "$store" "\$@"
EOF
chmod +x "$work/helper"
export GOCACHEPROG=$work/helper GOCACHE=$work/gocache GOPATH=$work/gopath GOTOOLCHAIN=local GOFLAGS= GO111MODULE=
RANDOM=${SEED:-$$}

killed=0 completed=0
for ((i = 1; i <= iterations; i++)); do
    rm -f "$work/helper.pid"
    "$go" build std >"$work/build.log" 2>&1 &
    build=$!
    # The delay runs from the helper's start (the go command starts it after loading packages).
    for ((w = 0; w < 6000; w++)); do
        [ -s "$work/helper.pid" ] || ! kill -0 "$build" 2>/dev/null && break
        sleep 0.01
    done
    delay=$((RANDOM * 32768 + RANDOM))
    delay=$((delay % max_delay + 1))
    sleep "$((delay / 1000)).$(printf %03d $((delay % 1000)))"
    if [ -s "$work/helper.pid" ] && kill -9 "$(cat "$work/helper.pid")" 2>/dev/null; then
        killed=$((killed + 1))
    fi
    if wait "$build"; then completed=$((completed + 1)); fi
    if ((i % 10 == 0)); then echo "kill-helper: $i/$iterations builds, $killed kills" >&2; fi
done

verify() {
    local out status=0
    out=$("$cacheprog" verify --dir "$store" --json) || status=$?
    echo "$out" >"$work/verify.json"
    if [ "$status" -ne 0 ]; then
        echo "kill-helper: cacheprog verify found damage after $1 (exit $status):" >&2
        echo "$out" >&2
        exit 1
    fi
}
verify "the kills"
leftover=$(($(find "$store/v1/blobs" -type f -name '.tmp-*' | wc -l) + $(find "$store/v1/tmp" -type f | wc -l)))
checked=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["report"]; print(r["blobsChecked"], "blobs,", r["recordsChecked"], "records")' "$work/verify.json")

# Then builds must succeed from the store as the kills left it: the first with hits, the second with nothing else.
stats() {
    python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print(s["hits"], s["misses"], s["putErrors"], s["corruptBlobs"])' "$1"
}
CASBRIDGE_STATS_FILE=$work/after.json "$go" build std >"$work/build.log" 2>&1 ||
    { cat "$work/build.log" >&2; echo "kill-helper: the build after the kills failed" >&2; exit 1; }
read -r hits misses put_errors corrupt < <(stats "$work/after.json")
CASBRIDGE_STATS_FILE=$work/again.json "$go" build std >"$work/build.log" 2>&1 ||
    { cat "$work/build.log" >&2; echo "kill-helper: the second build failed" >&2; exit 1; }
read -r hits2 misses2 _ corrupt2 < <(stats "$work/again.json")
verify "the builds"
echo "kill-helper: $iterations builds, helper SIGKILLed in $killed (within ${max_delay} ms), $completed finished first;" \
    "verify clean ($checked; $leftover young temporary files left);" \
    "next build ok: $hits hits, $misses misses, $put_errors put errors, $corrupt corrupt;" \
    "again: $hits2 hits, $misses2 misses, $corrupt2 corrupt"
if [ "$hits" -eq 0 ] || [ "$misses2" -ne 0 ] || [ "$corrupt" -ne 0 ] || [ "$corrupt2" -ne 0 ]; then
    echo "kill-helper: expected hits after the kills and none but hits in the second build" >&2
    exit 1
fi
