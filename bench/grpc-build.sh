#!/usr/bin/env bash
# Benchmark of the REAPI gRPC remote (issue 4) against BuildGrid, side by side in one run:
#   1. start-up of the helper (`cacheprog </dev/null`, exits at stdin EOF) with gRPC linked in;
#   2. warm no-op `go build std` with the built-in GOCACHE (the reference);
#   3. `go build std` from an EMPTY local store and empty GOCACHE with a warm BuildGrid
#      (`grpc://`), each run with fresh local state: every output comes over gRPC.
# The claim checked: 3 takes at most 2.5x of 2.
# Each timed remote run also reports the helper's CPU (user + system), the server's CPU, and a file-system
# probe (bench/lib.sh): the seconds it takes to create 1,150 empty files in 256 new directories beside the
# run, i.e. the file creations alone of an empty store's warm build, which cost the built-in side nothing.
# Usage: bench/grpc-build.sh [runs (default 5)]
# Env: SCRATCH=.build-xyz to build into another scratch path (default .build);
#      CACHEPROG=/path/to/cacheprog to use an already built release binary.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
source bench/backends/buildgrid.sh
runs=${1:-5}
scratch=${SCRATCH:-.build}
bash scripts/install-deps.sh >/dev/null
if [ -n "${CACHEPROG:-}" ]; then
    bin=$CACHEPROG
else
    swift build -c release --scratch-path "$scratch" --product cacheprog >/dev/null 2>&1 \
        || swift build -c release --scratch-path "$scratch" --product cacheprog
    bin=$PWD/$scratch/release/cacheprog
fi
go=$PWD/.tools/gobin/go
work=$(mktemp -d /tmp/casbridge-grpc-bench.XXXXXX)
server_pid=
cleanup() { remove_work $server_pid; }
trap cleanup EXIT
bench_environment
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "go: $($go version); cacheprog: release build of $(git rev-parse --short HEAD 2>/dev/null || echo unknown); BuildGrid $($PWD/.tools/venv/bin/python -c 'import importlib.metadata as m; print(m.version("buildgrid"))')"
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo

# 1. Start-up: 100 runs of the helper that exits at once on stdin EOF.
mkdir -p "$work/startup"
t0=$(now)
for _ in $(seq 100); do CASBRIDGE_DIR=$work/startup "$bin" </dev/null >/dev/null; done
t1=$(now)
echo "helper start-up (no remote): $(echo "scale=2; ($t1 - $t0) * 10" | bc) ms per run (mean of 100)"

# BuildGrid, cache only, in memory (bench/backends/buildgrid.sh).
start_buildgrid
remote=$remote_url
echo "BuildGrid listening at $remote"

# Populate: a cold built-in build (reference cache) and a cold build that uploads to BuildGrid.
t0=$(now); GOCACHE=$work/gc-builtin $go build std; t1=$(now)
echo "cold go build std, built-in cache: $(echo "$t1 - $t0" | bc) s"
t0=$(now)
GOCACHE=$work/gc-upload GOCACHEPROG="$bin --dir $work/store-upload --remote $remote" CASBRIDGE_UPLOAD_TIMEOUT=600s \
    CASBRIDGE_STATS_FILE=$work/upload.json $go build std
t1=$(now)
echo "cold go build std, cacheprog uploading to BuildGrid: $(echo "$t1 - $t0" | bc) s ($($bin stats --dir "$work/store-upload" | tail -1))"
echo
settle_fs "$work/settle"
read -r fresh recycled <<<"$(page_probe "$work/page-probe")"
echo "page-cache probe: 128 MiB into fresh pages ${fresh} s, into recycled pages ${recycled} s (see page_probe in bench/lib.sh)"

declare -a builtin remote_runs helper_cpu server_cpu probes
for ((i = 1; i <= runs; i++)); do
    sync  # no write-back of the previous run's files during this one (either side)
    t0=$(now); GOCACHE=$work/gc-builtin $go build std; t1=$(now)
    builtin+=("$(echo "$t1 - $t0" | bc)")
    # Fresh directories, not deleted ones: see settle_fs in bench/lib.sh.
    read -r wall hcpu scpu probe <<<"$(timed_remote_run "$remote" "$work/run-$i" "$server_pid")"
    remote_runs+=("$wall"); helper_cpu+=("$hcpu"); server_cpu+=("$scpu"); probes+=("$probe")
    echo "run $i: built-in warm ${builtin[-1]} s, empty local + warm BuildGrid ${remote_runs[-1]} s" \
        "(helper CPU ${helper_cpu[-1]} s, BuildGrid CPU ${server_cpu[-1]} s; fs probe ${probes[-1]} s)"
done
b=$(median "${builtin[@]}"); r=$(median "${remote_runs[@]}")
echo
echo "warm go build std: built-in ${b} s; empty local store + warm BuildGrid ${r} s; ratio $(echo "scale=3; $r / $b" | bc)x (medians of $runs; claim: <= 2.5x)"
echo "  helper CPU $(median "${helper_cpu[@]}") s, BuildGrid CPU $(median "${server_cpu[@]}") s, fs probe $(median "${probes[@]}") s (medians)"
echo "last remote run: $($bin stats --dir "$work/run-$runs/store" | tail -1)"
