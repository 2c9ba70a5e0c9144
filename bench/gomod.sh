#!/usr/bin/env bash
# Measures `cacheprog gomod` on a two-go.mod monorepo of real-sized modules.
#
# The modules are the golang.org/x trees that ship inside GOROOT (src/vendor and
# src/cmd/vendor, with their LICENSE files), zipped into a file:// GOPROXY by
# Tests/GoModFixtures/goproxy.py. svc1 and svc2 share golang.org/x/sys and x/text.
# Measured: the first download, a second store (digest reproducibility), the repeat
# with the proxy deleted and no go on PATH, materialisation (cold and repeat), the
# offline go build from the materialised tree, and `gomod exec`.
#
# Usage: bench/gomod.sh   (CACHEPROG=path/to/cacheprog to pick a binary; WORK=dir)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
GO="${GO:-$ROOT/.tools/gobin/go}"
[ -x "$GO" ] || { echo "no go at $GO: run scripts/install-deps.sh" >&2; exit 1; }
if [ -z "${CACHEPROG:-}" ]; then
  for c in "$ROOT"/.build/release/cacheprog "$ROOT"/.build/debug/cacheprog "$ROOT"/.build-*/debug/cacheprog; do
    [ -x "$c" ] && { CACHEPROG="$c"; break; }
  done
fi
[ -x "${CACHEPROG:-}" ] || { echo "build cacheprog first (swift build) or set CACHEPROG" >&2; exit 1; }
WORK="${WORK:-$(mktemp -d /tmp/gomod-bench.XXXXXX)}"
trap 'chmod -R u+w "$WORK" 2>/dev/null; rm -rf "$WORK"' EXIT
export GOTOOLCHAIN=local GOWORK=off GOFLAGS= GOSUMDB=off GOCACHE="$WORK/gocache" CASBRIDGE_REMOTE=
GOROOT_SRC="$("$GO" env GOROOT)/src"
PROXY="$WORK/proxy"
GOBIN_DIR="$(dirname "$GO")"
now() { date +%s.%N; }
elapsed() { echo "$(now) - $1" | bc | awk '{printf "%.3f", $1}'; }

# 1. The proxy: x/sys and x/text merge the std and cmd vendored copies.
stage() { # module-name dirs...
  local dst="$WORK/src/$1"; shift
  mkdir -p "$dst"
  for d in "$@"; do [ -d "$d" ] && cp -r "$d"/. "$dst"/; done
}
V="$GOROOT_SRC/vendor/golang.org/x"; C="$GOROOT_SRC/cmd/vendor/golang.org/x"
stage sys "$V/sys" "$C/sys"; stage text "$V/text" "$C/text"; stage crypto "$V/crypto"; stage net "$V/net"
for m in arch mod sync term telemetry tools build; do stage "$m" "$C/$m"; done
add() { python3 "$ROOT/Tests/GoModFixtures/goproxy.py" add "$PROXY" "golang.org/x/$1" "$2" "$WORK/src/$1" --go 1.25 "${@:3}"; }
t=$(now)
add sys v0.45.0
add text v0.37.0
add crypto v0.52.0 --require golang.org/x/sys@v0.45.0
add net v0.55.0 --require golang.org/x/crypto@v0.52.0 --require golang.org/x/text@v0.37.0 --require golang.org/x/sys@v0.45.0
add arch v0.27.0
add sync v0.20.0
add mod v0.36.0 --require golang.org/x/text@v0.37.0
add term v0.43.0 --require golang.org/x/sys@v0.45.0
add telemetry v0.1.0 --require golang.org/x/sync@v0.20.0 --require golang.org/x/sys@v0.45.0
add tools v0.45.0 --require golang.org/x/sync@v0.20.0 --require golang.org/x/mod@v0.36.0
add build v0.1.0 --require golang.org/x/mod@v0.36.0
echo "proxy: $(find "$PROXY" -name '*.zip' | wc -l) module zips, $(du -sh "$PROXY" | cut -f1), source $(du -sh "$WORK/src" | cut -f1) in $(find "$WORK/src" -type f | wc -l) files ($(elapsed "$t") s)"

# 2. The monorepo.
REPO="$WORK/repo"
mkdir -p "$REPO/svc1" "$REPO/svc2"
cat > "$REPO/svc1/main.go" <<'GO'
package main

import (
	"fmt"

	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/net/http/httpguts"
	"golang.org/x/net/idna"
	"golang.org/x/sys/cpu"
	"golang.org/x/text/unicode/norm"
)

func main() {
	host, _ := idna.Lookup.ToASCII("bücher.example")
	fmt.Println(host, httpguts.ValidHeaderFieldName("X-Ok"), chacha20poly1305.KeySize, cpu.X86.HasAVX2 || true, norm.NFC.String("e\u0301"))
}
GO
cat > "$REPO/svc2/main.go" <<'GO'
package main

import (
	"fmt"

	"golang.org/x/arch/x86/x86asm"
	"golang.org/x/mod/semver"
	"golang.org/x/sync/errgroup"
	"golang.org/x/sys/unix"
	"golang.org/x/term"
	"golang.org/x/text/unicode/norm"
	"golang.org/x/tools/go/ast/inspector"
)

func main() {
	var g errgroup.Group
	g.Go(func() error { return nil })
	inst, _ := x86asm.Decode([]byte{0x90}, 64)
	fmt.Println(semver.Compare("v1.2.0", "v1.10.0"), g.Wait(), unix.Getpid() > 0, term.IsTerminal(0) || true, inst.Op, norm.NFC.String("a"), inspector.New(nil) != nil)
}
GO
for s in svc1 svc2; do
  printf 'module example.com/mono/%s\n\ngo 1.25\n' "$s" > "$REPO/$s/go.mod"
  (cd "$REPO/$s" && GOPROXY="file://$PROXY" GOMODCACHE="$WORK/tidycache" GOFLAGS=-modcacherw PATH="$GOBIN_DIR:$PATH" "$GO" mod tidy)
done
echo "monorepo: svc1 needs $(grep -c 'go.mod h1' "$REPO/svc1/go.sum") modules, svc2 $(grep -c 'go.mod h1' "$REPO/svc2/go.sum")"

gomod() { "$CACHEPROG" gomod "$@"; }
export PATH="$GOBIN_DIR:/usr/bin:/bin"
cd "$REPO"

# 3. First download (runs go mod download once per go.mod).
t=$(now)
FIRST="$(GOPROXY="file://$PROXY" gomod download --dir "$WORK/store1" ./...)"
echo "first download ./... (2 go.mod): $(elapsed "$t") s"
echo "$FIRST" | sed 's/^/  /'
echo "store1: $(find "$WORK/store1/v1/blobs" -type f | wc -l) blobs, $(du -sh "$WORK/store1/v1/blobs" | cut -f1)"

# 4. Another store directory: the same digests.
SECOND="$(GOPROXY="file://$PROXY" gomod download --dir "$WORK/store2" ./...)"
[ "$(echo "$FIRST" | cut -d' ' -f1)" = "$(echo "$SECOND" | cut -d' ' -f1)" ] && echo "digests reproducible across stores: yes" || { echo "digests differ across stores:"; echo "$SECOND"; exit 1; }

# 5. Repeat with the proxy deleted and no go on PATH.
rm -rf "$PROXY"
if PATH=/usr/bin:/bin command -v go >/dev/null; then echo "go is still on PATH" >&2; exit 1; fi
t=$(now)
REPEAT="$(PATH=/usr/bin:/bin GOPROXY=off gomod download --dir "$WORK/store1" ./...)"
R=$(elapsed "$t")
[ "$REPEAT" = "$FIRST" ] || { echo "repeat gave different digests" >&2; exit 1; }
echo "repeat download ./... without proxy and without go on PATH: $R s"
awk -v r="$R" 'BEGIN { exit !(r < 2) }' || { echo "repeat took $R s (>= 2 s)" >&2; exit 1; }

# 6. Materialise svc1's tree: cold, then into the complete directory again.
D1="$(echo "$FIRST" | head -1 | cut -d' ' -f1)"
t=$(now); gomod materialize --dir "$WORK/store1" "$D1" --into "$WORK/mat1" >/dev/null
echo "materialize svc1 (cold, $(find "$WORK/mat1" -type f | wc -l) files): $(elapsed "$t") s"
t=$(now); gomod materialize --dir "$WORK/store1" "$D1" --into "$WORK/mat1" >/dev/null
echo "materialize svc1 again (complete): $(elapsed "$t") s"

# 7. Offline build from the materialised tree.
t=$(now)
(cd "$REPO/svc1" && GOMODCACHE="$WORK/mat1" GOPROXY=off GOFLAGS=-mod=readonly "$GO" build -o "$WORK/svc1.bin" .)
echo "offline go build svc1 (GOPROXY=off, -mod=readonly, cold GOCACHE): $(elapsed "$t") s -> $("$WORK/svc1.bin")"

# 8. gomod exec: ensure + materialise + build with GOCACHEPROG, offline.
t=$(now)
gomod exec --dir "$WORK/store1" svc2 -- go build -o "$WORK/svc2.bin" .
echo "gomod exec svc2 -- go build (cold build cache): $(elapsed "$t") s -> $("$WORK/svc2.bin")"
t=$(now)
gomod exec --dir "$WORK/store1" svc2 -- go build -o "$WORK/svc2.bin" .
echo "gomod exec svc2 -- go build (again: tree cached, build cache warm): $(elapsed "$t") s"
echo "cacheprog: $CACHEPROG; $(nproc) cores; $(date -u +%Y-%m-%dT%H:%MZ)"
