#!/usr/bin/env bash
# Benchmark of the GOCACHEPROG helper over the local store (issue 2), side by side in one run:
#   1. cold `go build std`: built-in GOCACHE vs cacheprog, both from empty caches, interleaved;
#   2. warm no-op `go build std`: built-in warm GOCACHE vs cacheprog warm store (hyperfine, interleaved);
#   3. protocol microbenchmark (bench/protobench, a Go driver speaking the protocol as cmd/go does):
#      get-hit round trip p50/p99, put MB/s, peak RSS while a 256 MiB put streams through.
# Usage: bench/go-build-std.sh [cold-repetitions (default 2; 0: warm only)] [warm-runs (default 20)]
set -euo pipefail
cd "$(dirname "$0")/.."
cold_reps=${1:-2}
warm_runs=${2:-20}
bash scripts/install-deps.sh >/dev/null
# CASBRIDGE_BENCH_SCRATCH picks another SwiftPM scratch directory (default .build).
scratch=${CASBRIDGE_BENCH_SCRATCH:-.build}
swift build -c release --scratch-path "$scratch" --product cacheprog >/dev/null 2>&1 ||
    swift build -c release --scratch-path "$scratch" --product cacheprog
bin=$PWD/$scratch/release/cacheprog
go=$PWD/.tools/gobin/go
work=$(mktemp -d /tmp/casbridge-bench.XXXXXX)
trap 'chmod -R u+w "$work"; rm -rf "$work"' EXIT
export GOTOOLCHAIN=local GOPROXY=off GOENV=off GOTELEMETRY=off GOFLAGS= CGO_ENABLED=1
unset GOCACHEPROG CASBRIDGE_DIR CASBRIDGE_REMOTE
now() { date +%s.%N; }

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "go: $($go version); cacheprog: release build of $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo

declare -a cold_builtin cold_helper
for ((i = 1; i <= cold_reps; i++)); do
    rm -rf "$work/gc-b" "$work/gc-c" "$work/store"
    t0=$(now); GOCACHE=$work/gc-b $go build std; t1=$(now)
    cold_builtin+=("$(echo "$t1 - $t0" | bc)")
    t0=$(now); GOCACHE=$work/gc-c GOCACHEPROG="$bin --dir $work/store" $go build std; t1=$(now)
    cold_helper+=("$(echo "$t1 - $t0" | bc)")
    echo "cold run $i: built-in ${cold_builtin[-1]} s, cacheprog ${cold_helper[-1]} s"
done
if ((cold_reps == 0)); then
    # Warm only: populate both caches once, untimed.
    GOCACHE=$work/gc-b $go build std
    GOCACHE=$work/gc-c GOCACHEPROG="$bin --dir $work/store" $go build std
fi
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
if ((cold_reps > 0)); then
    cb=$(median "${cold_builtin[@]}"); ch=$(median "${cold_helper[@]}")
    echo "cold go build std: built-in ${cb} s, cacheprog ${ch} s, ratio $(echo "scale=3; $ch / $cb" | bc)x"
fi
echo

# Warm no-op: both caches are populated by the last cold run.
hyperfine --style basic --warmup 3 --runs "$warm_runs" --export-json "$work/warm.json" \
    -n builtin "GOCACHE=$work/gc-b $go build std" \
    -n cacheprog "GOCACHE=$work/gc-c GOCACHEPROG='$bin --dir $work/store' $go build std" >/dev/null
python3 - "$work/warm.json" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
b, c = r["builtin"], r["cacheprog"]
print(f"warm no-op go build std: built-in {b['median']*1000:.0f} ms (±{b['stddev']*1000:.0f}), "
      f"cacheprog {c['median']*1000:.0f} ms (±{c['stddev']*1000:.0f}), ratio {c['median']/b['median']:.3f}x (medians of {len(b['times'])} runs)")
PY
echo
echo "cacheprog run of the last warm build: $($bin stats --dir "$work/store" | tail -1)"
echo

(cd bench/protobench && $go build -o "$work/protobench" .)
"$work/protobench" -prog "$bin" -dir "$work/proto-store" -big 256
