#!/usr/bin/env bash
# Benchmark of a remote's latency: how `go build std` from an empty local store with a warm remote changes
# as the remote moves away, for one backend, side by side in one run. Per round, in an order that rotates
# from one round to the next:
#   built-in  warm no-op `go build std` with the built-in GOCACHE (the reference);
#   P3        empty local store + fresh GOCACHE + warm remote, straight to the server on loopback;
#   0 ms      the same through bench/delayproxy adding nothing (what the proxy itself costs);
#   N ms      the same through bench/delayproxy at N ms RTT (N/2 ms each way; "P4" at 50 ms), per delay.
# Every remote run has fresh local state (timed_remote_run in bench/lib.sh: every output comes over the
# network) and also reports the helper's CPU, the server's CPU, the proxy's CPU and the file-system probe.
# The remote is populated first by one cold `go build std` through cacheprog, then one more build from an
# empty local store, which writes the warm manifest (with its segments) the timed runs prefetch from.
# Before anything else the proxy's own capacity is measured (delayproxy -selftest: the same transfers
# straight, through it and through bench/delay-proxy.py), so that the table shows it is not the proxy.
# Prints per configuration min / median / max and the ratios: P3/built-in, 0 ms/P3, each delay/P3, then a
# Markdown table. Ratios are of the medians, with the median of the per-round ratios in parentheses.
# Usage: bench/latency.sh [backend: nginx (default) | seaweedfs | buildgrid] [pairs (default 11)]
#                         [delays, ms RTT (default "50 150")]
# Env: CACHEPROG=path uses that binary as it is (else a release build into CASBRIDGE_BENCH_SCRATCH, default
#      .build); BASELINE=path adds that binary's remote runs (P3, 0 ms, each delay) to the same rounds;
#      COLD=1 also times cold builds: built-in cold `go build std` (fresh GOCACHE) against cacheprog from an
#      empty local store uploading to an EMPTY remote (a fresh prefix or instance per run) through the
#      proxy at COLD_DELAY ms RTT (default 50), COLD_PAIRS rounds (default 3), the helper's default upload
#      timeout unless COLD_UPLOAD_TIMEOUT is set (say 600s);
#      SELFTEST_BYTES=n bytes per self-test transfer (default 2 GiB; 0 skips the self-test).
set -euo pipefail
shopt -s inherit_errexit # a failing build inside $(...) ends the script instead of recording a time
cd "$(dirname "$0")/.."
source bench/lib.sh
backend=${1:-nginx}
pairs=${2:-11}
delays=${3:-"50 150"}
baseline=${BASELINE:+$(realpath "$BASELINE")}
cold=${COLD:-0}
cold_pairs=${COLD_PAIRS:-3}
cold_delay=${COLD_DELAY:-50}
cold_timeout=${COLD_UPLOAD_TIMEOUT:-}
selftest_bytes=${SELFTEST_BYTES:-$((2 << 30))}
bash scripts/install-deps.sh >/dev/null
select_cacheprog
go=$PWD/.tools/gobin/go
work=$(mktemp -d /tmp/casbridge-latency.XXXXXX)
server_pid=
proxy_pid=
cleanup() { remove_work $proxy_pid $server_pid; }
trap cleanup EXIT
bench_environment

# The backends (start_<name> functions) live in bench/backends/*.sh.
for f in bench/backends/*.sh; do source "$f"; done
declare -F "start_$backend" >/dev/null || { echo "unknown backend '$backend' (have: $(ls bench/backends/*.sh | xargs -n1 basename | sed 's/\.sh$//' | paste -sd, | sed 's/,/, /g'))" >&2; exit 2; }
# url_for PORT [NAME]: the remote behind 127.0.0.1:PORT (the server's port or a proxy's); with NAME, an
# empty remote of its own on the same server (a path prefix, or a BuildGrid instance declared at start).
url_for() {
    local port=$1 name=${2:-}
    case $backend in
    nginx) echo "http://127.0.0.1:$port${name:+/$name}" ;;
    seaweedfs) echo "s3://casbridge/${name:-bench}?endpoint=http://127.0.0.1:$port" ;;
    buildgrid) echo "grpc://127.0.0.1:$port/${name:-bench}" ;;
    *) echo "latency.sh: no URLs for backend $backend" >&2; exit 2 ;;
    esac
}

modified=""
git diff --quiet HEAD -- Sources Package.swift 2>/dev/null && [ -z "$(git status --porcelain -- Sources 2>/dev/null)" ] ||
    modified=" + uncommitted changes"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "go: $($go version); cacheprog: $bin (tree: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$modified)"
[ -n "$baseline" ] && echo "baseline: $baseline"
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "backend: $backend; pairs: $pairs; delays (ms RTT): $delays$( ((cold)) && echo "; cold: $cold_pairs pairs at $cold_delay ms RTT${cold_timeout:+, upload timeout $cold_timeout}")"
echo

# The proxy, with a cache of its own, and its own capacity.
(cd bench/delayproxy && GOCACHE=$work/gc-tools $go build -o "$work/delayproxy" .)
if ((selftest_bytes > 0)); then
    "$work/delayproxy" -selftest -bytes "$selftest_bytes" -python bench/delay-proxy.py
    echo
fi

# The server, with an empty remote of its own for each cold cacheprog run (names used by url_for).
cold_names=()
if ((cold)); then
    for ((i = 1; i <= cold_pairs; i++)); do
        cold_names+=("cold-$i")
        [ -n "$baseline" ] && cold_names+=("cold-base-$i")
    done
fi
"start_$backend" "${cold_names[@]}"
[ "$(url_for "$server_port")" = "$remote_url" ] ||
    { echo "latency.sh: url_for gives $(url_for "$server_port"), the backend $remote_url" >&2; exit 1; }
echo "backend: $backend_version at $remote_url"

# One proxy process: 0 ms, each delay, and the cold runs' delay; one port each.
half() { echo "scale=3; $1 / 2" | bc; }
declare -A proxy_port
maps=()
for d in 0 $delays; do
    [ -n "${proxy_port[$d]:-}" ] && continue
    proxy_port[$d]=$(free_port)
    maps+=(-map "${proxy_port[$d]}:$server_port:$(half "$d")")
done
if ((cold)) && [ -z "${proxy_port[$cold_delay]:-}" ]; then
    proxy_port[$cold_delay]=$(free_port)
    maps+=(-map "${proxy_port[$cold_delay]}:$server_port:$(half "$cold_delay")")
fi
"$work/delayproxy" "${maps[@]}" 2>"$work/proxy.log" &
proxy_pid=$!
for p in "${proxy_port[@]}"; do wait_port "$p"; done
sed 's/^/proxy: /' "$work/proxy.log"

# Populate, untimed: the built-in cache, then the remote (a cold build uploading everything, then one build
# from an empty local store, which writes the warm manifest and its segments).
t0=$(now)
GOCACHE=$work/gc-builtin $go build std
echo "populated the built-in GOCACHE (cold go build std) in $(elapsed "$t0") s"
for i in 1 2; do
    t0=$(now)
    GOCACHE=$work/populate-$i/gocache GOCACHEPROG="$bin --dir $work/populate-$i/store --remote $remote_url" \
        CASBRIDGE_UPLOAD_TIMEOUT=600s CASBRIDGE_STATS_FILE=$work/populate-$i/stats.json $go build std
    echo "populate $i ($([ $i = 1 ] && echo "cold, uploading" || echo "empty local store, writes the warm manifest")): $(elapsed "$t0") s"
    echo "  $("$bin" stats --dir "$work/populate-$i/store" 2>/dev/null | tail -1 || true)"
done
python3 - "$work/populate-1/stats.json" "$work/populate-2/stats.json" <<'PY'
import json, sys
one, two = (json.load(open(p)).get("remote", {}) for p in sys.argv[1:])
if not two.get("manifestRecords") or not two.get("manifestHits"):
    print("WARNING: the second populating build found no warm manifest in the remote, or used none of it")
segments = (one.get("segmentUploads") or 0) + (two.get("segmentUploads") or 0)
print(f"warm manifest: {two.get('manifestRecords')} entries when the second build loaded it; "
      f"segments written: {segments} ({two.get('segmentReads') or 0} read by the second build)")
PY
settle_fs "$work/settle"
read -r fresh recycled <<<"$(page_probe "$work/page-probe")"
echo "page-cache probe: 128 MiB into fresh pages ${fresh} s, into recycled pages ${recycled} s (see page_probe in bench/lib.sh)"
echo

# The configurations. Results go to $work/results/CONFIG, one line per run: wall helper-cpu server-cpu
# fs-probe proxy-cpu (the built-in runs: wall only).
mkdir -p "$work/results" "$work/runs"
configs=(builtin cp-direct cp-0)
for d in $delays; do configs+=("cp-$d"); done
if [ -n "$baseline" ]; then
    configs+=(bl-direct bl-0)
    for d in $delays; do configs+=("bl-$d"); done
fi
# remote_run BINARY URL TAG: one timed remote run; prints "wall helper-cpu server-cpu fs-probe proxy-cpu".
remote_run() {
    local bin=$1 url=$2 tag=$3 p0 p1 out
    p0=$(cpu_seconds "$proxy_pid")
    out=$(timed_remote_run "$url" "$work/runs/$tag" "$server_pid")
    p1=$(cpu_seconds "$proxy_pid")
    echo "$out $(echo "$p1 - $p0" | bc)"
}
# run CONFIG ROUND: one run of CONFIG; appends its line to the results and prints its wall time.
run() {
    local c=$1 i=$2 b=$bin where out t0 t1
    case $c in
    builtin)
        sync # no write-back of the previous run's files during this one
        t0=$(now); GOCACHE=$work/gc-builtin $go build std; t1=$(now)
        out=$(echo "$t1 - $t0" | bc)
        ;;
    *)
        [ "${c%%-*}" = bl ] && b=$baseline
        where=${c#*-}
        if [ "$where" = direct ]; then
            out=$(remote_run "$b" "$remote_url" "$c-$i")
        else
            out=$(remote_run "$b" "$(url_for "${proxy_port[$where]}")" "$c-$i")
        fi
        ;;
    esac
    echo "$out" >>"$work/results/$c"
    printf '%.2f' "${out%% *}"
}
order=("${configs[@]}")
for ((i = 1; i <= pairs; i++)); do
    line="round $i:"
    for c in "${order[@]}"; do
        line+=" $c $(run "$c" "$i")"
    done
    order=("${order[@]:1}" "${order[0]}")
    echo "$line"
done
echo
echo "last run of each remote configuration (stats of its store):"
for c in "${configs[@]}"; do
    [ "$c" = builtin ] && continue
    b=$bin
    [ "${c%%-*}" = bl ] && b=$baseline
    echo "  $c: $("$b" stats --dir "$work/runs/$c-$pairs/store" 2>/dev/null | tail -1 || true)"
done

cold_configs=()
if ((cold)); then
    echo
    cold_configs=(builtin-cold cp-cold)
    [ -n "$baseline" ] && cold_configs+=(bl-cold)
    corder=("${cold_configs[@]}")
    for ((i = 1; i <= cold_pairs; i++)); do
        line="cold round $i:"
        for c in "${corder[@]}"; do
            case $c in
            builtin-cold)
                sync
                t0=$(now); GOCACHE=$work/runs/builtin-cold-$i/gocache $go build std; t1=$(now)
                out=$(echo "$t1 - $t0" | bc)
                ;;
            cp-cold | bl-cold)
                b=$bin name=cold-$i
                [ "$c" = bl-cold ] && b=$baseline name=cold-base-$i
                url=$(url_for "${proxy_port[$cold_delay]}" "$name")
                out=$(
                    if [ -n "$cold_timeout" ]; then export CASBRIDGE_UPLOAD_TIMEOUT=$cold_timeout; fi
                    remote_run "$b" "$url" "$c-$i"
                )
                ;;
            esac
            echo "$out" >>"$work/results/$c"
            line+=" $c $(printf '%.2f' "${out%% *}")"
        done
        corder=("${corder[@]:1}" "${corder[0]}")
        echo "$line"
        for c in cp-cold bl-cold; do
            [ -d "$work/runs/$c-$i/store" ] || continue
            b=$bin
            [ "$c" = bl-cold ] && b=$baseline
            echo "  $c: $("$b" stats --dir "$work/runs/$c-$i/store" 2>/dev/null | tail -1 || true)"
        done
    done
fi

echo
python3 - "$work/results" "$backend" "$pairs" "$delays" "$cold_delay" "$cold_pairs" "${baseline:+1}" "${cold_configs[*]:-}" <<'PY'
import os, statistics as st, sys
res, backend, pairs, delays, cold_delay, cold_pairs, has_base, cold_configs = sys.argv[1:]
delays = delays.split()
cold_configs = cold_configs.split()
def load(c):
    p = os.path.join(res, c)
    if not os.path.exists(p):
        return None
    rows = [[float(x) for x in l.split()] for l in open(p) if l.strip()]
    return {"wall": [r[0] for r in rows], "cols": rows}
data = {c: load(c) for c in os.listdir(res)}
med = st.median
def mmm(c):
    w = data[c]["wall"]
    return f"{min(w):.2f} / {med(w):.2f} / {max(w):.2f}"
def ratio(a, b):
    x, y = data[a]["wall"], data[b]["wall"]
    return f"{med(x) / med(y):.2f} ({med([p / q for p, q in zip(x, y)]):.2f})"
def cpu(c, k):
    cols = data[c]["cols"]
    if not cols or len(cols[0]) <= k:
        return ""
    return f"{med([r[k] for r in cols]):.2f}"
names = {"direct": "P3: empty local + warm remote, loopback", "0": "through the proxy, 0 ms"}
for d in delays:
    names[d] = f"through the proxy, {d} ms RTT" + (" (P4)" if d == "50" else "")
def label(where, ref):
    return {"direct": "P3/built-in", "0": "0 ms/P3"}.get(where, f"{where} ms/P3")

print(f"== {backend}: go build std, seconds min / median / max of {pairs} rounds; "
      "ratios of the medians (median of the per-round ratios)")
sides = [("cp", "cacheprog")] + ([("bl", "baseline")] if has_base else [])
print(f"built-in warm:                {mmm('builtin')}")
for s, sname in sides:
    print(f"{sname}:")
    for where in ["direct", "0"] + delays:
        c = f"{s}-{where}"
        ref = "builtin" if where == "direct" else f"{s}-direct"
        extra = f", vs built-in {ratio(c, 'builtin')}" if where != "direct" else ""
        if where not in ("direct", "0"):
            extra += f", vs 0 ms {ratio(c, f'{s}-0')}"
        print(f"  {names[where]:<42} {mmm(c)}  {label(where, ref)} {ratio(c, ref)}{extra}; "
              f"helper CPU {cpu(c, 1)} s, server CPU {cpu(c, 2)} s, proxy CPU {cpu(c, 4)} s, fs probe {cpu(c, 3)} s")
    if has_base and s == "bl":
        for where in ["direct", "0"] + delays:
            print(f"  cacheprog/baseline, {names[where]}: {ratio(f'cp-{where}', f'bl-{where}')}")
if cold_configs:
    print(f"cold (fresh GOCACHE; cacheprog: empty local store uploading to an empty remote at {cold_delay} ms RTT), {cold_pairs} rounds:")
    print(f"  built-in cold:  {mmm('builtin-cold')}")
    for s, sname in sides:
        c = f"{s}-cold"
        print(f"  {sname} cold: {mmm(c)}  /built-in cold {ratio(c, 'builtin-cold')}; helper CPU {cpu(c, 1)} s, "
              f"server CPU {cpu(c, 2)} s, proxy CPU {cpu(c, 4)} s")

print()
head = "| configuration | s min / median / max | ratio | vs built-in | vs 0 ms | helper CPU s | server CPU s | proxy CPU s |"
sep = "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
if has_base:
    head += " baseline s min / median / max | baseline ratio | cacheprog/baseline |"
    sep += " ---: | ---: | ---: |"
print(head)
print(sep)
row = f"| built-in warm | {mmm('builtin')} | | 1 | | | | |"
print(row + (" | | |" if has_base else ""))
for where in ["direct", "0"] + delays:
    c, ref = f"cp-{where}", ("builtin" if where == "direct" else "cp-direct")
    vs0 = ratio(c, "cp-0") if where not in ("direct", "0") else ""
    row = (f"| {names[where]} | {mmm(c)} | {label(where, ref)} {ratio(c, ref)} | {ratio(c, 'builtin')} | {vs0} | "
           f"{cpu(c, 1)} | {cpu(c, 2)} | {cpu(c, 4)} |")
    if has_base:
        b, bref = f"bl-{where}", ("builtin" if where == "direct" else "bl-direct")
        row += f" {mmm(b)} | {ratio(b, bref)} | {ratio(c, b)} |"
    print(row)
if cold_configs:
    row = f"| built-in cold | {mmm('builtin-cold')} | | | | | | |"
    print(row + (" | | |" if has_base else ""))
    c = "cp-cold"
    row = (f"| cold to an empty remote, {cold_delay} ms RTT | {mmm(c)} | /built-in cold {ratio(c, 'builtin-cold')} | | | "
           f"{cpu(c, 1)} | {cpu(c, 2)} | {cpu(c, 4)} |")
    if has_base:
        row += f" {mmm('bl-cold')} | {ratio('bl-cold', 'builtin-cold')} | {ratio(c, 'bl-cold')} |"
    print(row)
PY
