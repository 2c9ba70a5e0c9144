#!/usr/bin/env bash
# Benchmark of store size ("speed at scale"): how a warm no-op `go build std` through cacheprog, and the
# helper's start, change as the local store grows. For each size S, a copy of a store populated by one
# `go build std` through cacheprog (one warm build re-verifies the copied blobs), plus S synthetic entries
# that no build looks up (bench/storegen: random ActionIDs, min(S, 100000) small blobs of their own, the
# rest sharing one blob, used 2-72 h ago), compacted once by `cacheprog trim` (which trims nothing: every
# limit is far away). Side by side, interleaved, PAIRS times:
#   built-in   the warm built-in GOCACHE (the reference);
#   cacheprog  the helper over that store;
#   floor      bench/floorprog, a GOCACHEPROG helper answering every get from an in-memory map of the
#              built-in cache (no file system access while serving): what the protocol itself costs.
# The order of the three rotates from one round to the next. Per size also: the helper's start to its
# first answer (bench/protobench -startup: start `cacheprog --dir STORE`, send one get for an entry of the
# store at once, time to the response) and its peak RSS during one extra warm build (untimed).
# Each run is timed with date around the go command only: no wrapper around the helper, which would delay
# the go command's end (see lib.sh).
# Usage: bench/store-scale.sh [pairs (default 11)] [sizes (default "0 100000 1000000 5000000")]
# Env: CASBRIDGE_BENCH_SCRATCH picks another SwiftPM scratch directory (default .build);
#      CACHEPROG=path uses that binary as it is (no swift build); STARTS=n helper starts per size (default 15);
#      BASELINE=path adds a fourth side: that cacheprog binary (say, a build from before a change) over its own
#      copy of each store, prepared the same way with its own trim;
#      EMPTY=1 adds cacheprog over a store without synthetic entries to every round (see below).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
pairs=${1:-11}
sizes=${2:-"0 100000 1000000 5000000"}
starts=${STARTS:-15}
baseline=${BASELINE:+$(realpath "$BASELINE")}
bash scripts/install-deps.sh >/dev/null
select_cacheprog
go=$PWD/.tools/gobin/go
work=$(mktemp -d /tmp/casbridge-scale.XXXXXX)
trap remove_work EXIT
bench_environment

modified=""
git diff --quiet HEAD -- Sources Package.swift 2>/dev/null && [ -z "$(git status --porcelain -- Sources 2>/dev/null)" ] ||
    modified=" + uncommitted changes"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "go: $($go version); cacheprog: release build of $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$modified ($bin)"
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
[ -n "$baseline" ] && echo "baseline: $baseline"
echo "pairs: $pairs; sizes (synthetic entries added): $sizes; helper starts per size: $starts"
echo

# The tools, with a cache of their own.
for t in floorprog storegen protobench; do
    (cd "bench/$t" && GOCACHE=$work/gc-tools $go build -o "$work/$t" .)
done

# Populate the built-in cache and the base store, untimed.
t0=$(now)
GOCACHE=$work/gc-builtin $go build std
echo "populated the built-in GOCACHE in $(elapsed "$t0") s"
t0=$(now)
GOCACHE=$work/gc-helper GOCACHEPROG="$bin --dir $work/base/store" $go build std
echo "populated the base store through cacheprog in $(elapsed "$t0") s: $(find "$work/base/store/v1/blobs" -type f ! -name '.*' | wc -l) blobs"
"$work/floorprog" -prepare -gocache "$work/gc-builtin" -out "$work/floor.map" 2>&1
floor="$work/floorprog -map $work/floor.map"

# One ActionID the base store holds, for the start-to-first-answer get: the same build populated both,
# so take the built-in cache's entries in turn until the helper answers one with a hit.
action=
for f in $(find "$work/gc-builtin" -name '*-a' | sort | head -50); do
    a=${f##*/}
    a=${a%-a}
    if "$work/protobench" -prog "$bin" -dir "$work/base/store" -startup 1 -action "$a" >/dev/null 2>&1; then
        action=$a
        break
    fi
done
[ -n "$action" ] || { echo "no entry of the built-in cache is a hit in the base store" >&2; exit 1; }
echo "start-to-first-answer get: ActionID $action"

# build KIND STORE: one warm no-op `go build std` (b: built-in, c: cacheprog over STORE, f: the floor).
build() {
    case $1 in
    b) GOCACHE=$work/gc-builtin $go build std ;;
    c) GOCACHE=$work/gc-helper GOCACHEPROG="$bin --dir $2" $go build std ;;
    o) GOCACHE=$work/gc-baseline GOCACHEPROG="$baseline --dir $2" $go build std ;;
    e) GOCACHE=$work/gc-helper GOCACHEPROG="$bin --dir $empty_store" $go build std ;;
    f) GOCACHE=$work/gc-floor GOCACHEPROG="$floor" $go build std ;;
    esac
}
# The helper does its housekeeping after closing its stdout, so after the go command has returned:
# let it end before the next run.
wait_helper() {
    for _ in $(seq 3000); do pgrep -f -- "--dir $1\$" >/dev/null || return 0; sleep 0.01; done
}

# prepare KIND STORE BINARY SIZE: a copy of the base store, re-verified, SIZE synthetic entries added, compacted.
prepare() {
    cp -a "$work/base/store" "$2"
    # The copies of the blobs have new inodes and change times: the helper re-hashes each one on its
    # first hit and records its new stamp. Let one build do that before the compaction.
    t0=$(now)
    build "$1" "$2"
    wait_helper "$2"
    echo "$1: re-verified the copied store: $(elapsed "$t0") s"
    if (($4 > 0)); then
        t0=$(now)
        "$work/storegen" -dir "$2" -n "$4" -blobs $(($4 < 100000 ? $4 : 100000)) -seed "$4" 2>&1
        echo "$1: storegen: $(elapsed "$t0") s"
    fi
    t0=$(now)
    "$3" trim --dir "$2" --max-size 100TiB --max-age 100000d
    echo "$1: trim (compaction): $(elapsed "$t0") s; store: $(du -sm "$2" | cut -f1) MB, v1/: $(ls "$2/v1" | xargs)"
}

# EMPTY=1: cacheprog over a store without synthetic entries is a side of every round too, so each size's
# ratio is compared with the empty store's in the same rounds.
empty_store=
if [ -n "${EMPTY:-}" ]; then
    empty_store=$work/empty/store
    mkdir -p "$work/empty"
    prepare e "$empty_store" "$bin" 0
fi
rows=()
brows=()
for size in $sizes; do
    echo
    echo "== $size synthetic entries"
    dir=$work/s$size
    store=$dir/store
    mkdir -p "$dir"
    old=$dir/old
    sides="b c f"
    [ -n "$baseline" ] && sides="b c f o"
    prepare c "$store" "$bin" "$size"
    [ -n "$baseline" ] && prepare o "$old" "$baseline" "$size"
    [ -n "$empty_store" ] && sides+=" e"
    # Untimed warm-ups: each helper's first build over its new store, and one of each other side.
    for k in $sides; do
        s=$store
        [ "$k" = o ] && s=$old
        [ "$k" = e ] && s=$empty_store
        build "$k" "$s"
        wait_helper "$s"
    done
    echo "after the warm-ups: v1/index $(stat -c %s "$store/v1/index") bytes"
    sync  # no write-back of the preparation during the timed runs

    tb=() tc=() tf=() to=() te=()
    read -r -a order <<<"$sides"
    for ((i = 1; i <= pairs; i++)); do
        line="round $i:"
        for k in "${order[@]}"; do
            s=$store
            [ "$k" = o ] && s=$old
            [ "$k" = e ] && s=$empty_store
            t0=$(now); build "$k" "$s"; t1=$(now)
            wait_helper "$s"
            t=$(echo "$t1 - $t0" | bc)
            case $k in b) tb+=("$t"); line+=" built-in $t" ;; c) tc+=("$t"); line+=" cacheprog $t" ;;
                f) tf+=("$t"); line+=" floor $t" ;; o) to+=("$t"); line+=" baseline $t" ;;
                e) te+=("$t"); line+=" cacheprog-empty $t" ;; esac
        done
        # The next round starts with the next side.
        order=("${order[@]:1}" "${order[0]}")
        echo "$line"
    done

    # Start to first answer.
    startout=$("$work/protobench" -prog "$bin" -dir "$store" -startup "$starts" -action "$action")
    echo "$startout"
    startline=$(grep 'first answer' <<<"$startout")
    # Peak RSS in one more warm build (untimed; the wrapper delays the go command's end, not the helper).
    rm -f "$dir/rss.txt" "$dir/stats.json"
    GOCACHE=$work/gc-helper GOCACHEPROG="/usr/bin/time -f %M -o $dir/rss.txt $bin --dir $store" \
        CASBRIDGE_STATS_FILE=$dir/stats.json $go build std
    wait_helper "$store"
    if [ -n "$baseline" ]; then
        bstart=$("$work/protobench" -prog "$baseline" -dir "$old" -startup "$starts" -action "$action" | grep 'first answer')
        echo "baseline: $bstart"
        rm -f "$dir/rss-old.txt"
        GOCACHE=$work/gc-baseline GOCACHEPROG="/usr/bin/time -f %M -o $dir/rss-old.txt $baseline --dir $old" $go build std
        wait_helper "$old"
        brow=$(python3 - "$size" "${tb[*]}" "${to[*]}" "${tc[*]}" "$bstart" "$dir/rss-old.txt" <<'PY'
import re, statistics as st, sys
size, tb, to, tc, startline, rss_file = sys.argv[1:]
b, o, c = ([float(x) * 1000 for x in s.split()] for s in (tb, to, tc))
med = st.median
m = re.search(r"min ([\d.]+) median ([\d.]+) max ([\d.]+) ms", startline)
start = f"{m.group(2)} ({m.group(1)}-{m.group(3)})" if m else "?"
rss = int(open(rss_file).read().split()[-1]) * 1024 / 1e6
print(f"| {size} | {min(o):.0f} / {med(o):.0f} / {max(o):.0f} | {med(o) / med(b):.3f} ({med([p / q for p, q in zip(o, b)]):.3f}) "
      f"| {med(c) / med(o):.3f} ({med([p / q for p, q in zip(c, o)]):.3f}) | {start} | {rss:.1f} |")
PY
)
        echo "baseline: $brow"
        brows+=("$brow")
    fi

    if [ -n "$empty_store" ]; then
        python3 - "$size" "${tb[*]}" "${tc[*]}" "${te[*]}" <<'PY'
import statistics as st, sys
size, tb, tc, te = sys.argv[1:]
b, c, e = ([float(x) * 1000 for x in s.split()] for s in (tb, tc, te))
med = st.median
print(f"size {size} against the empty store in the same rounds: cacheprog {med(c):.0f} ms, on the empty store "
      f"{med(e):.0f} ms; ratio to built-in {med(c) / med(b):.3f} vs {med(e) / med(b):.3f} "
      f"(difference {med(c) / med(b) - med(e) / med(b):+.3f}; median of per-round differences "
      f"{med([(p - q) / r for p, q, r in zip(c, e, b)]):+.3f})")
PY
    fi
    out=$(python3 - "$size" "${tb[*]}" "${tc[*]}" "${tf[*]}" "$startline" "$dir/rss.txt" "$dir/stats.json" <<'PY'
import json, os, re, statistics as st, sys
size, tb, tc, tf, startline, rss_file, stats_file = sys.argv[1:]
b, c, f = ([float(x) * 1000 for x in s.split()] for s in (tb, tc, tf))
med = st.median
def mmm(x): return f"{min(x):.0f} / {med(x):.0f} / {max(x):.0f}"
def ratio(x, y): return f"{med(x) / med(y):.3f} ({med([p / q for p, q in zip(x, y)]):.3f})"
m = re.search(r"min ([\d.]+) median ([\d.]+) max ([\d.]+) ms", startline)
start = f"{m.group(2)} ({m.group(1)}-{m.group(3)})" if m else "?"
stats = {}
try:
    stats = json.load(open(stats_file))
except (OSError, ValueError):
    pass
# The helper's own peak RSS when its stats report one (a field named like peakRSSKiB), else /usr/bin/time's.
def find(d):
    if isinstance(d, dict):
        for k, v in d.items():
            if "peakrss" in k.lower() and isinstance(v, (int, float)):
                return k, v
            r = find(v)
            if r: return r
    return None
rss, source = None, "/usr/bin/time"
hit = find(stats)
if hit:
    k, v = hit
    unit = 1024 if k.lower().endswith("kib") else 1 << 20 if k.lower().endswith("mib") else 1
    rss, source = v * unit / 1e6, f"stats {k}"
else:
    try:
        rss = int(open(rss_file).read().split()[-1]) * 1024 / 1e6
    except (OSError, ValueError, IndexError):
        pass
rss_s = f"{rss:.1f}" if rss is not None else "?"
print(f"size {size}: built-in {mmm(b)} ms, cacheprog {mmm(c)} ms, floor {mmm(f)} ms (min / median / max of {len(b)}); "
      f"cacheprog/built-in {ratio(c, b)}, floor/built-in {ratio(f, b)}, cacheprog/floor {ratio(c, f)} "
      f"(ratio of medians (median of per-round ratios)); peak RSS {rss_s} MB ({source}); "
      f"RSS run: {stats.get('gets', '?')} gets, {stats.get('hits', '?')} hits, {stats.get('misses', '?')} misses, "
      f"{stats.get('puts', '?')} puts")
print(f"| {size} | {mmm(c)} | {mmm(b)} | {mmm(f)} | {ratio(c, b)} | {ratio(f, b)} | {ratio(c, f)} | {start} | {rss_s} |")
PY
)
    echo "${out%%$'\n'*}"
    rows+=("${out##*$'\n'}")
done

echo
echo "Warm no-op \`go build std\`, ms min / median / max of $pairs rounds; ratios: of the medians (median of the per-round ratios);"
echo "start to first answer: median (min-max) of $starts helper starts; peak RSS: the helper's, in one more warm build."
echo
echo "| synthetic entries | cacheprog ms | built-in ms | floor ms | cacheprog/built-in | floor/built-in | cacheprog/floor | start to first answer ms | peak RSS MB |"
echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
printf '%s\n' "${rows[@]}"
if [ -n "$baseline" ]; then
    echo
    echo "Baseline ($baseline) side by side in the same rounds:"
    echo
    echo "| synthetic entries | baseline ms | baseline/built-in | cacheprog/baseline | baseline start to first answer ms | baseline peak RSS MB |"
    echo "| ---: | ---: | ---: | ---: | ---: | ---: |"
    printf '%s\n' "${brows[@]}"
fi
