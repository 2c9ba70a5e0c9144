#!/usr/bin/env bash
# Benchmark of an HTTP remote (issue 3), side by side in one run:
#   1. warm no-op `go build std` with the built-in GOCACHE (the reference);
#   2. `go build std` through cacheprog from an EMPTY local store and empty GOCACHE with a
#      WARM remote (fresh local state each run: every output comes over the network);
#   3. the same as 2 through bench/delay-proxy.py adding 25 ms each way (50 ms RTT).
# Runs of 1 and 2 (and 3) are interleaved. The claim checked: 2 takes at most 2.5x of 1.
# Each timed remote run also reports the helper's CPU (user + system), the server's CPU, and a file-system
# probe (bench/lib.sh): the seconds it takes to create 1,150 empty files in 256 new directories beside the
# run, i.e. the file creations alone of an empty store's warm build, which cost the built-in side nothing.
# Usage: bench/remote-build.sh [backend: nginx (default) | seaweedfs | buildgrid] [runs (default 5)] [delayed runs (default 2)]
# Env: SCRATCH=.build-xyz to build into another scratch path (default .build); CACHEPROG=path uses that binary
#      as it is (no swift build).
#      TRUST=signed: the remote is populated by a signing writer (a key from `cacheprog keygen`), and every run
#      also times 2 with `--trust signed` (CASBRIDGE_TRUST, the key in CASBRIDGE_TRUSTED_KEYS), interleaved, to
#      show the cost of verifying signatures (issue 23: within 5 % of 2).
# Adding a backend: write start_<name> that starts the server in the background, sets
# server_pid, server_port and remote_url (the cacheprog --remote URL), and waits until it serves.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
backend=${1:-nginx}
runs=${2:-5}
delayed_runs=${3:-2}
scratch=${SCRATCH:-.build}
bash scripts/install-deps.sh >/dev/null
if [[ -n ${CACHEPROG:-} ]]; then
    bin=$(realpath "$CACHEPROG")
else
    swift build -c release --scratch-path "$scratch" --product cacheprog >/dev/null 2>&1 \
        || swift build -c release --scratch-path "$scratch" --product cacheprog
    bin=$PWD/$scratch/release/cacheprog
fi
go=$PWD/.tools/gobin/go
work=$(mktemp -d /tmp/casbridge-remote-bench.XXXXXX)
server_pid=
proxy_pid=
cleanup() { remove_work $proxy_pid $server_pid; }
trap cleanup EXIT
bench_environment
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
# The backends (start_<name> functions) live in bench/backends/*.sh; free_port and wait_port in bench/lib.sh.
for f in bench/backends/*.sh; do source "$f"; done
declare -F "start_$backend" >/dev/null || { echo "unknown backend '$backend' (have: $(ls bench/backends/*.sh | xargs -n1 basename | sed 's/\.sh$//' | paste -sd, | sed 's/,/, /g'))" >&2; exit 2; }

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load $(cut -d' ' -f1-3 /proc/loadavg)"
"start_$backend"
echo "go: $($go version); cacheprog: release build of $(git rev-parse --short HEAD 2>/dev/null || echo unknown); backend: $backend ($backend_version)"
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo

# Populate: the built-in cache and the remote (through a throw-away local store).
signing_key_file=
trusted_keys=
if [[ ${TRUST:-} == signed ]]; then
    mkdir -p "$work/keys"
    "$bin" keygen bench-1 --output-dir "$work/keys" >/dev/null
    signing_key_file=$work/keys/bench-1.private
    trusted_keys=$(cat "$work/keys/bench-1.public")
fi
GOCACHE=$work/gc-builtin $go build std
GOCACHE=$work/gc-populate GOCACHEPROG="$bin --dir $work/store-populate --remote $remote_url" CASBRIDGE_UPLOAD_TIMEOUT=600s \
    CASBRIDGE_SIGNING_KEY_FILE=$signing_key_file $go build std
echo "remote populated: $(CASBRIDGE_DIR=$work/store-populate $bin stats 2>/dev/null | tail -1 || true)"
settle_fs "$work/settle"
read -r fresh recycled <<<"$(page_probe "$work/page-probe")"
echo "page-cache probe: 128 MiB into fresh pages ${fresh} s, into recycled pages ${recycled} s (see page_probe in bench/lib.sh)"

proxy_port=$(free_port)
python3 bench/delay-proxy.py "$proxy_port" "$server_port" 25 &
proxy_pid=$!
wait_port "$proxy_port"
delayed_url=${remote_url/:$server_port/:$proxy_port}

# url tag. With TRUST=signed every timed run signs what it writes (the warm manifest at close), as every writer of
# a signed cache must: one unsigned writer's manifest would leave the --trust signed side without one.
remote_run() {
    if [[ -n $signing_key_file ]]; then
        CASBRIDGE_SIGNING_KEY_FILE=$signing_key_file timed_remote_run "$1" "$work/run-$2" "$server_pid"
    else
        timed_remote_run "$1" "$work/run-$2" "$server_pid"
    fi
}
remote_summary() { python3 -c "import json,sys; r=json.load(open(sys.argv[1])); m=r.get('remote',{}); print(f\"gets {r['gets']}, remote hits {r['remoteHits']} ({m.get('manifestHits')} through the warm manifest of {m.get('manifestRecords')} entries), misses {r['misses']}, bytes down {m.get('bytesDown')}\")" "$1"; }

declare -a builtin remote delayed helper_cpu server_cpu probes signed signed_cpu
for ((i = 1; i <= runs; i++)); do
    sync  # no write-back of the previous run's files during this one (either side)
    t0=$(now); GOCACHE=$work/gc-builtin $go build std; t1=$(now)
    builtin+=("$(echo "$t1 - $t0" | bc)")
    read -r wall hcpu scpu probe <<<"$(remote_run "$remote_url" "r$i")"
    remote+=("$wall"); helper_cpu+=("$hcpu"); server_cpu+=("$scpu"); probes+=("$probe")
    line="run $i: built-in warm ${builtin[-1]} s, empty local + warm $backend $wall s"
    line+=" (helper CPU $hcpu s, server CPU $scpu s; fs probe $probe s)"
    if [[ -n $trusted_keys ]]; then
        read -r wall hcpu _ <<<"$(CASBRIDGE_TRUST=signed CASBRIDGE_TRUSTED_KEYS=$trusted_keys remote_run "$remote_url" "s$i")"
        signed+=("$wall"); signed_cpu+=("$hcpu")
        line+=", same with --trust signed $wall s (helper CPU $hcpu s)"
    fi
    if ((i <= delayed_runs)); then
        read -r wall _ <<<"$(remote_run "$delayed_url" "d$i")"
        delayed+=("$wall")
        line+=", same at 50 ms RTT $wall s"
    fi
    echo "$line"
done
echo "last remote run: $(remote_summary "$work/run-r$runs/stats.json")"
b=$(median "${builtin[@]}"); r=$(median "${remote[@]}")
echo
echo "go build std, medians of $runs runs:"
echo "  built-in warm GOCACHE:               ${b} s"
echo "  empty local + warm $backend:            ${r} s  ratio $(echo "scale=2; $r / $b" | bc)x (claim: <= 2.5x)"
echo "    helper CPU $(median "${helper_cpu[@]}") s, $backend CPU $(median "${server_cpu[@]}") s, fs probe $(median "${probes[@]}") s (medians)"
if [[ -n $trusted_keys ]]; then
    sg=$(median "${signed[@]}")
    echo "  the same with --trust signed:        ${sg} s  $(echo "scale=3; $sg / $r" | bc)x of unsigned (claim: <= 1.05x), helper CPU $(median "${signed_cpu[@]}") s"
    echo "    last signed run: $(remote_summary "$work/run-s$runs/stats.json"), untrusted entries $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("remote",{}).get("untrustedEntries"))' "$work/run-s$runs/stats.json")"
fi
if ((delayed_runs > 0)); then
    dl=$(median "${delayed[@]}")
    echo "  empty local + warm $backend, 50ms RTT: ${dl} s  ratio $(echo "scale=2; $dl / $b" | bc)x (median of $delayed_runs)"
fi
