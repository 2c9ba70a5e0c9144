#!/usr/bin/env bash
# Installs everything, builds cacheprog (release), and builds a real Go program (GOROOT's
# cmd/gofmt) twice through it on the embedded default store: the second build is served
# from the cache.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build -c release --product cacheprog
bin=$PWD/.build/release/cacheprog
if command -v go >/dev/null 2>&1 && go version | grep -Eq 'go1\.(2[4-9]|[3-9][0-9])'; then
    go=$(command -v go)
else
    go=$PWD/.tools/gobin/go
fi
work=$(mktemp -d /tmp/casbridge-quickstart.XXXXXX)
trap 'rm -rf "$work"' EXIT
export GOTOOLCHAIN=local GOPROXY=off GOFLAGS= CASBRIDGE_VERBOSE=1
export GOCACHEPROG="$bin"
unset CASBRIDGE_DIR CASBRIDGE_REMOTE
echo "== store: $($bin stats | head -1 | sed 's/store: *//')"
for run in first second; do
    echo "== $run build of cmd/gofmt through cacheprog (fresh GOCACHE: only cacheprog can hit)"
    start=$(date +%s.%N)
    GOCACHE=$work/gocache-$run $go build -x -o "$work/gofmt-$run" cmd/gofmt 2>"$work/trace-$run"
    end=$(date +%s.%N)
    compiles=$(grep -c '/compile ' "$work/trace-$run" || true)
    grep '^cacheprog:' "$work/trace-$run" || true
    printf '   %s build: %.2f s, %s compiler runs\n' "$run" "$(echo "$end - $start" | bc)" "$compiles"
done
cmp -s "$work/gofmt-first" "$work/gofmt-second" && echo "== both builds produced identical binaries"
"$bin" stats
