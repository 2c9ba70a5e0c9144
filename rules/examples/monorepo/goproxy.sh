#!/usr/bin/env bash
# Builds the example's module proxy: the golang.org/x modules vendored in GOROOT/src/vendor,
# zipped by Tests/GoModFixtures/goproxy.py into a file:// GOPROXY (fixed times, sorted
# entries: the same Go gives the same bytes, so the committed go.sum files verify).
# golang.org/x/sys v0.46.0 is v0.45.0 plus one file: the version the tests move to.
#
# Usage: goproxy.sh DIR   (GO=path/to/go; default: go on PATH)
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
here="$(cd "$(dirname "$0")" && pwd)"
script="$here/../../../Tests/GoModFixtures/goproxy.py"
[ -f "$script" ] || { echo "$script not found: run from a CASBridge checkout" >&2; exit 1; }
go="${GO:-go}"
goroot="$("$go" env GOROOT)"
vendor="$goroot/src/vendor/golang.org/x"
proxy="$1"
src="$(mktemp -d)"
trap 'rm -rf "$src"' EXIT
add() { # module version source requirements...
    python3 "$script" add "$proxy" "golang.org/x/$1" "$2" "$3" --go 1.25 "${@:4}"
}
for m in sys text crypto net; do
    [ -d "$vendor/$m" ] || { echo "$vendor/$m not found: this Go does not vendor golang.org/x/$m" >&2; exit 1; }
    cp -r "$vendor/$m" "$src/$m"
done
add sys v0.45.0 "$src/sys"
add text v0.37.0 "$src/text"
add crypto v0.52.0 "$src/crypto" --require golang.org/x/sys@v0.45.0
add net v0.55.0 "$src/net" --require golang.org/x/crypto@v0.52.0 --require golang.org/x/text@v0.37.0 \
    --require golang.org/x/sys@v0.45.0
printf 'v0.46.0\n' >"$src/sys/version.txt"
add sys v0.46.0 "$src/sys"
