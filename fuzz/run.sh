#!/usr/bin/env bash
# libFuzzer targets over every decoder of outside input (docs/development.md, "Fuzzing").
#   fuzz/run.sh build                 build .build/fuzz/casbridge-fuzz (release, -sanitize=fuzzer,address)
#   fuzz/run.sh list                  the targets
#   fuzz/run.sh TARGET SECONDS [ARGS] fuzz one target from its committed corpus (fuzz/corpus/TARGET)
#   fuzz/run.sh all SECONDS [ARGS]    every target in turn, SECONDS each (ARGS: libFuzzer's, e.g. -runs=1000000)
#   fuzz/run.sh replay TARGET FILE... run inputs once (a crash's reproducer), no fuzzing
# Every mode but list builds first (incremental); CASBRIDGE_FUZZ_NO_BUILD=1 skips that, for runs side by side.
# New corpus entries go to fuzz/out/corpus/TARGET, crashes to fuzz/out/artifacts/TARGET/ (not committed; outside
# .build/fuzz, where a rebuild removes empty directories).
# Each run prints "TARGET: N executions, E exec/s, result" at the end. Exits non-zero on a crash.
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=.build/fuzz
binary=$scratch/casbridge-fuzz
flags=(-Xswiftc -sanitize=fuzzer,address -Xswiftc -g)
targets=(request index-journal index-table manifest segment gomod-tree gomod-text action-result s3-error aws-config
    remote-url flags)

build() {
    if [ "${CASBRIDGE_FUZZ_NO_BUILD:-}" = 1 ] && [ -x "$binary" ]; then return; fi
    # One static archive of the fuzz targets and everything they use, every module instrumented; libFuzzer's main
    # comes from the link (the targets define LLVMFuzzerTestOneInput).
    swift build -c release --product CASBridgeFuzz --scratch-path "$scratch" "${flags[@]}" >&2
    swiftc -sanitize=fuzzer,address -g "$scratch/release/libCASBridgeFuzz.a" -o "$binary"
}

# A Swift trap can leave the process stuck in its crash handler: no backtracer, and a hard time limit.
export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:handle_abort=1}

run() {
    local target=$1 seconds=$2
    shift 2
    local corpus=fuzz/out/corpus/$target artifacts=fuzz/out/artifacts/$target/ log
    mkdir -p "$corpus" "$artifacts"
    log=$(mktemp)
    local status=0
    CASBRIDGE_FUZZ_TARGET=$target timeout -k 10 $((seconds + 60)) "$binary" "$corpus" "fuzz/corpus/$target" \
        -max_total_time="$seconds" -max_len=8192 -timeout=30 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$artifacts" "$@" >"$log" 2>&1 || status=$?
    local runs rate
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    if [ "$status" -ne 0 ]; then
        tail -60 "$log" >&2
        echo "$target: ${runs:-?} executions, ${rate:-?} exec/s, FAILED (exit $status); inputs in $artifacts" >&2
        rm -f "$log"
        return 1
    fi
    rm -f "$log"
    echo "$target: $runs executions, $rate exec/s, no crash"
}

case "${1:-}" in
    build) build ;;
    list) printf '%s\n' "${targets[@]}" ;;
    replay)
        build
        target=$2
        shift 2
        CASBRIDGE_FUZZ_TARGET=$target timeout -k 10 120 "$binary" -runs=1 "$@"
        ;;
    all)
        build
        seconds=${2:?usage: fuzz/run.sh all SECONDS [ARGS]}
        shift 2
        failed=0
        for t in "${targets[@]}"; do run "$t" "$seconds" "$@" || failed=1; done
        exit $failed
        ;;
    "" | -h | --help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' ;;
    *)
        [[ " ${targets[*]} " == *" $1 "* ]] || { echo "unknown target '$1'; fuzz/run.sh list names them" >&2; exit 2; }
        build
        run "$@"
        ;;
esac
