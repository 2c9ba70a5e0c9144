#!/usr/bin/env bash
# Load safety: 8 go commands at once (go build, go vet, go test -run XXX of different std packages, with different
# flags: -trimpath, -gcflags, -ldflags, build tags via GOFLAGS; some sharing one GOCACHE as a developer's do, some
# with their own as CI jobs' do) on ONE local store, while `cacheprog trim --max-size` with a small size and
# `cacheprog verify` run in a loop beside them. Every go command must succeed, every trim too, every verify must
# find nothing damaged (verify is safe while helpers run), and afterwards a build must hit. Results: RELIABILITY.md.
#   scripts/load-trim.sh CACHEPROG [ROUNDS] [MAX_SIZE]    (defaults: 10 rounds, --max-size 4MiB)
#
# Trim never removes what was used or written in the last hour, so before each round the store is aged two hours
# (scripts/age-store.py, while nothing runs on it): the round's builds then hit entries that trims are evicting at
# that moment, which is the race this checks (a hit's touch against an eviction). Each round gives each of the 8
# slots another package set, so rounds mix hits, misses and puts. Prints a summary line; exits non-zero on failure.
set -euo pipefail
cacheprog=$(realpath "${1:?usage: scripts/load-trim.sh CACHEPROG [ROUNDS] [MAX_SIZE]}")
rounds=${2:-10}
max_size=${3:-4MiB}
cd "$(dirname "$0")/.."
scripts=$PWD/scripts
go=${CASBRIDGE_TEST_GO:-$PWD/.tools/gobin/go}
work=$(mktemp -d)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
store=$work/store
mkdir -p "$work/stats" "$work/logs" "$work/bin"
export GOCACHEPROG="$cacheprog --dir $store" CASBRIDGE_STATS_DIR=$work/stats
export GOPATH=$work/gopath GOTOOLCHAIN=local GOFLAGS= GO111MODULE= CGO_ENABLED=0

sets=(
    "strings bytes unicode/utf8 sort"
    "encoding/json encoding/xml"
    "fmt strconv math/big"
    "bufio io/fs path/filepath regexp"
    "compress/gzip archive/tar archive/zip"
    "text/template html/template"
    "crypto/sha256 crypto/hmac hash/crc32 encoding/base64"
    "container/list container/heap slices maps"
)
commands=(cmd/gofmt cmd/addr2line cmd/nm cmd/pack cmd/covdata cmd/buildid cmd/objdump cmd/test2json)

# Slot SLOT's go command in round ROUND (in the background); its status goes to a file.
job() {
    local slot=$1 round=$2 pkgs=${sets[$(((slot + round) % 8))]} gocache=$work/gocache-shared
    local -a cmd
    case $slot in
    0) cmd=(build $pkgs) ;;
    1) cmd=(build -trimpath $pkgs) ;;
    2) cmd=(vet $pkgs) gocache=$work/gocache-2 ;;
    3) cmd=(test -run XXX $pkgs) gocache=$work/gocache-3 ;;
    4) cmd=(build -gcflags=-l $pkgs) ;;
    5) cmd=(build $pkgs) gocache=$work/gocache-5 ;;
    6) cmd=(test -count=1 -short -run XXX $pkgs) ;;
    7) cmd=(build -ldflags=-s -o "$work/bin/" ${commands[$((round % 8))]}) gocache=$work/gocache-7 ;;
    esac
    local -a env=(GOCACHE="$gocache")
    if [ "$slot" -eq 5 ]; then env+=(GOFLAGS=-tags=netgo,osusergo); fi
    (env "${env[@]}" "$go" "${cmd[@]}" >"$work/logs/$round-$slot" 2>&1 && echo 0 || echo $?) >"$work/logs/$round-$slot.status" &
}

# Trims and verifies one after the other until $work/stop exists; counts go to $work/trims, failures stop it.
trim_loop() {
    local trims=0 removed=0 verifies=0 out
    while [ ! -e "$work/stop" ]; do
        if ! out=$("$cacheprog" trim --dir "$store" --max-size "$max_size" 2>&1); then
            echo "load-trim: cacheprog trim failed: $out" >"$work/trim-failed"
            break
        fi
        trims=$((trims + 1))
        removed=$((removed + $(sed -n 's/.*removed \([0-9]*\) blobs.*/\1/p' <<<"$out")))
        if ! out=$("$cacheprog" verify --dir "$store" --json 2>&1); then
            echo "load-trim: cacheprog verify during the load found damage: $out" >"$work/trim-failed"
            break
        fi
        verifies=$((verifies + 1))
    done
    echo "$trims $removed $verifies" >"$work/trims"
}

# The seed: the store's first contents, which the rounds hit (and trims evict) once aged.
GOCACHE=$work/gocache-seed "$go" build ${sets[0]} ${sets[2]} >"$work/logs/seed" 2>&1 ||
    { cat "$work/logs/seed" >&2; echo "load-trim: the seed build failed" >&2; exit 1; }

total_trims=0 total_removed=0 total_verifies=0 builds=0
for ((round = 0; round < rounds; round++)); do
    python3 "$scripts/age-store.py" "$store" 7200 >/dev/null
    rm -f "$work/stop" "$work/trims"
    trim_loop &
    trimmer=$!
    for slot in 0 1 2 3 4 5 6 7; do job "$slot" "$round"; done
    # Wait for the 8 go commands (not the trim loop), then stop the loop after its current trim or verify.
    for slot in 0 1 2 3 4 5 6 7; do
        while [ ! -s "$work/logs/$round-$slot.status" ]; do sleep 0.2; done
    done
    touch "$work/stop"
    wait "$trimmer"
    if [ -e "$work/trim-failed" ]; then cat "$work/trim-failed" >&2; exit 1; fi
    read -r trims removed verifies <"$work/trims"
    total_trims=$((total_trims + trims)) total_removed=$((total_removed + removed))
    total_verifies=$((total_verifies + verifies))
    for slot in 0 1 2 3 4 5 6 7; do
        builds=$((builds + 1))
        if [ "$(cat "$work/logs/$round-$slot.status")" != 0 ]; then
            cat "$work/logs/$round-$slot" >&2
            echo "load-trim: round $round, slot $slot failed" >&2
            exit 1
        fi
    done
    echo "load-trim: round $((round + 1))/$rounds: 8 go commands ok; $trims trims (removed $removed blobs), $verifies verifies clean" >&2
done

out=$("$cacheprog" verify --dir "$store" --json) ||
    { echo "$out" >&2; echo "load-trim: cacheprog verify found damage after the load" >&2; exit 1; }
checked=$(python3 -c 'import json,sys; r=json.load(sys.stdin)["report"]; print(r["blobsChecked"], "blobs,", r["recordsChecked"], "records")' <<<"$out")
# Every helper run of the load: hits, misses, put errors, corrupt blobs.
read -r runs hits misses put_errors corrupt < <(python3 -c '
import glob, json, sys
s = [json.load(open(p)) for p in glob.glob(sys.argv[1] + "/*.json")]
print(len(s), *(sum(r[k] for r in s) for k in ("hits", "misses", "putErrors", "corruptBlobs")))' "$work/stats")

# A following build of the last round's first slot must hit (the store is not aged again: its entries are fresh).
rm -rf "$work/stats"
mkdir "$work/stats"
GOCACHE=$work/gocache-after CASBRIDGE_STATS_FILE=$work/after.json "$go" build ${sets[$(((rounds - 1) % 8))]} \
    >"$work/logs/after" 2>&1 || { cat "$work/logs/after" >&2; echo "load-trim: the build after failed" >&2; exit 1; }
read -r after_hits after_misses after_corrupt < <(python3 -c '
import json, sys; s = json.load(open(sys.argv[1])); print(s["hits"], s["misses"], s["corruptBlobs"])' "$work/after.json")
echo "load-trim: $rounds rounds, $builds go commands (8 at once) ok, $runs helper runs: $hits hits, $misses misses," \
    "$put_errors put errors, $corrupt corrupt; beside them $total_trims trims --max-size $max_size (removed" \
    "$total_removed blobs) and $total_verifies verifies, all clean; verify after: clean ($checked);" \
    "next build ok: $after_hits hits, $after_misses misses, $after_corrupt corrupt"
if [ "$put_errors" -ne 0 ] || [ "$corrupt" -ne 0 ] || [ "$after_hits" -eq 0 ] || [ "$after_corrupt" -ne 0 ]; then
    echo "load-trim: expected no put errors, no corrupt blobs, and hits after" >&2
    exit 1
fi
