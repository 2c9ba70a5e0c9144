#!/usr/bin/env bash
# The Bazel flow of rules/, for real and offline: the example monorepo (rules/examples/monorepo)
# built and tested by Debian's Bazel 4 with nginx (bazel-remote HTTP layout) as both Bazel's
# --remote_cache and cacheprog's CASBRIDGE_REMOTE, and a module proxy that counts requests.
#
#   1. cold: bazel build //... && bazel test //... fill the store, the remote and Bazel's cache
#   2. a new output base and an empty store, remote cache on: Bazel runs no Go action
#   3. the same with --noremote_accept_cached: Bazel reruns every action; go compiles nothing
#      and every test is (cached), all from cacheprog's remote; no module proxy request
#   4. one file of one package changes: that module's actions rerun; go compiles that package
#      and its dependents only, and reruns only their tests
#   5. go.mod/go.sum unchanged: a forced re-fetch of the module repository runs no download
#   6. one go.sum change: only the changed module version comes from the proxy
#   7. bad input: no cacheprog, no Go, a go.sum missing, a go.mod that needs tidy: clear errors;
#      the remote down: the build still succeeds
#
# Usage: rules/tests/bazel-flow.sh   (CACHEPROG=path, GO=path; KEEP=1 keeps the work directory)
# Prints the timings of step 1 and 2 and the proxy request count of step 6.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
GO="${GO:-$ROOT/.tools/gobin/go}"
CACHEPROG="${CACHEPROG:-$ROOT/.build/debug/cacheprog}"
[ -x "$GO" ] || { echo "bazel-flow: no go at $GO: run scripts/install-deps.sh" >&2; exit 1; }
[ -x "$CACHEPROG" ] || { echo "bazel-flow: no cacheprog at $CACHEPROG: swift build first" >&2; exit 1; }
command -v bazel >/dev/null || { echo "bazel-flow: no bazel: run scripts/install-deps.sh (bazel-bootstrap)" >&2; exit 1; }
[ -x /usr/sbin/nginx ] || { echo "bazel-flow: no nginx: run scripts/install-deps.sh" >&2; exit 1; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/casbridge-bazel.XXXXXX")"
WS="$WORK/src/rules/examples/monorepo"
STORE="$WORK/store"
output_bases=()
pids=()
cleanup() {
    for ob in "${output_bases[@]}"; do (cd "$WS" 2>/dev/null && bazel --output_base="$ob" shutdown >/dev/null 2>&1) || true; done
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    if [ -z "${KEEP:-}" ]; then chmod -R u+w "$WORK" 2>/dev/null; rm -rf "$WORK"; else echo "bazel-flow: kept $WORK" >&2; fi
}
trap cleanup EXIT
trap 'echo "bazel-flow: FAIL: line $LINENO: $BASH_COMMAND" >&2' ERR
fail() { echo "bazel-flow: FAIL: $*" >&2; exit 1; }
step() { echo "bazel-flow: $*" >&2; }
now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc | awk '{printf "%.1f", $1}'; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() { # file-or-port
    for _ in $(seq 1 2000); do
        case "$1" in
            [0-9]*) (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0 ;;
            *) [ -s "$1" ] && return 0 ;;
        esac
        sleep 0.01
    done
    fail "timed out waiting for $1"
}

# The sources, as a checkout lays them out (the example names the rules by a relative path).
mkdir -p "$WORK/src/rules/examples" "$STORE"
cp -r "$ROOT/rules/bazel" "$WORK/src/rules/bazel"
cp -r "$ROOT/rules/examples/monorepo" "$WS"

# The module proxy, served over HTTP with a request log.
GO="$GO" bash "$ROOT/rules/examples/monorepo/goproxy.sh" "$WORK/proxy"
python3 "$ROOT/Tests/GoModFixtures/goproxy.py" serve "$WORK/proxy" --port-file "$WORK/proxy.port" \
    --log "$WORK/proxy.log" >"$WORK/proxy.out" 2>&1 &
pids+=($!)
wait_for "$WORK/proxy.port"
PROXY_URL="http://127.0.0.1:$(cat "$WORK/proxy.port")"
touch "$WORK/proxy.log"
proxy_requests() { wc -l <"$WORK/proxy.log" | tr -d ' '; }

# nginx: the bazel-remote HTTP layout (/ac/, /cas/) as WebDAV, for Bazel and cacheprog alike.
source "$ROOT/scripts/lib/nginx.sh"
start_nginx() {
    local d="$WORK/nginx"
    [ -n "${NGINX_PORT:-}" ] || NGINX_PORT=$(free_port)
    write_nginx_conf "$d" "$NGINX_PORT"
    /usr/sbin/nginx -p "$d" -c "$d/nginx.conf" -e "$d/error.log" &
    NGINX_PID=$!
    pids+=("$NGINX_PID")
    wait_for "$NGINX_PORT"
}
start_nginx
REMOTE="http://127.0.0.1:$NGINX_PORT"

export CASBRIDGE_GO="$GO" CASBRIDGE_CACHEPROG="$CACHEPROG" CASBRIDGE_DIR="$STORE" GOPROXY="$PROXY_URL"
export GOSUMDB=off CASBRIDGE_REMOTE="$REMOTE"
unset GOFLAGS GOCACHEPROG GOMODCACHE
FLAGS=(--color=no --curses=no --noshow_progress --symlink_prefix=/ --remote_cache="$REMOTE" --action_env=CASBRIDGE_REMOTE="$REMOTE"
    --sandbox_writable_path="$STORE" --test_output=errors)

# bazel OUTPUT_BASE LOG COMMAND ARGS...: runs Bazel in the workspace; its output in LOG.
bz() {
    local ob="$1" log="$2"
    shift 2
    case " ${output_bases[*]} " in *" $ob "*) ;; *) output_bases+=("$ob") ;; esac
    (cd "$WS" && bazel --output_base="$ob" "$@") >"$log" 2>&1
}
bzok() { bz "$@" || { grep -v 'linux-sandbox' "$2" | tail -40 >&2; fail "bazel ${*:3} failed (log: $2)"; }; }
processes() { grep -E '^INFO: [0-9]+ process' "$1" | tail -1; }
bin_dir() { echo "$1/execroot/casbridge_monorepo_example/bazel-out/k8-fastbuild/bin"; }
# The Go packages an action's go -x log compiled (the -p of each compile), sorted.
compiled() { { grep -E '/compile( |$)' "$1" | grep -oE ' -p [^ ]+' | awk '{print $2}' | sort -u; } || true; }
# The test lines of a go test output that ran (not cached), as package paths.
tests_run() { { grep -E '^ok ' "$1" | grep -v '(cached)' | awk '{print $2}' | sort; } || true; }
tests_cached() { { grep -E '^ok .*\(cached\)' "$1" | awk '{print $2}' | sort; } || true; }

# 1. Cold.
OB1="$WORK/ob1"
t=$(now)
bzok "$OB1" "$WORK/1-build.log" build "${FLAGS[@]}" //...
bzok "$OB1" "$WORK/1-test.log" test "${FLAGS[@]}" //...
COLD=$(since "$t")
BIN1="$(bin_dir "$OB1")"
# The actions share the store, so a package compiled by one is a hit for the others.
COLD_BUILT="$(for m in greeter inspector; do compiled "$BIN1/$m/$m.golog"; compiled "$BIN1/$m/${m}_test.golog"; done | sort -u)"
for p in greeter/names greeter/greet greeter/extra inspector/cpuinfo inspector/normcheck; do
    echo "$COLD_BUILT" | grep -qx "example.com/mono/$p" || fail "the cold build did not compile $p"
done
for m in greeter inspector; do
    grep -q 'downloaded' "$OB1/external/${m}_modules/gomod.log" || fail "$m modules: $(cat "$OB1/external/${m}_modules/gomod.log")"
done
"$BIN1/greeter/greeter" " Zoë " | grep -q 'hello, Zoë' || fail "greeter does not greet"
COLD_REQUESTS=$(proxy_requests)
[ "$COLD_REQUESTS" -gt 0 ] || fail "the cold build asked the proxy nothing"
step "1. cold build+test: ${COLD}s, $COLD_REQUESTS proxy requests; $(processes "$WORK/1-build.log")"

# 2. A new output base and an empty store, Bazel's remote cache on: Bazel runs nothing.
rm -rf "$STORE" && mkdir "$STORE"
OB2="$WORK/ob2"
t=$(now)
bzok "$OB2" "$WORK/2-build.log" build "${FLAGS[@]}" //...
bzok "$OB2" "$WORK/2-test.log" test "${FLAGS[@]}" //...
WARM=$(since "$t")
for log in "$WORK/2-build.log" "$WORK/2-test.log"; do
    processes "$log" | grep -qE 'linux-sandbox|local|sandbox' && fail "Bazel ran actions: $(processes "$log")"
done
[ "$(proxy_requests)" = "$COLD_REQUESTS" ] || fail "the new output base asked the module proxy"
grep -q 'fetched from the remote' "$OB2/external/greeter_modules/gomod.log" || fail "modules: $(cat "$OB2/external/greeter_modules/gomod.log")"
step "2. new output base, empty store, remote cache: ${WARM}s; $(processes "$WORK/2-build.log"); $(processes "$WORK/2-test.log")"

# 3. Again, but Bazel may not take results from its remote cache: every action reruns and go
#    takes every package and test result from cacheprog's remote.
rm -rf "$STORE" && mkdir "$STORE"
OB3="$WORK/ob3"
t=$(now)
bzok "$OB3" "$WORK/3-build.log" build "${FLAGS[@]}" --noremote_accept_cached //...
bzok "$OB3" "$WORK/3-test.log" test "${FLAGS[@]}" --noremote_accept_cached //...
RERUN=$(since "$t")
BIN3="$(bin_dir "$OB3")"
processes "$WORK/3-build.log" | grep -q 'linux-sandbox' || fail "Bazel did not rerun: $(processes "$WORK/3-build.log")"
for m in greeter inspector; do
    for log in "$BIN3/$m/$m.golog" "$BIN3/$m/${m}_test.golog"; do
        [ -z "$(compiled "$log")" ] || fail "$log: go compiled $(compiled "$log" | tr '\n' ' ')"
    done
    [ -z "$(tests_run "$BIN3/$m/${m}_test.gotest")" ] || fail "tests ran: $(cat "$BIN3/$m/${m}_test.gotest")"
    [ -n "$(tests_cached "$BIN3/$m/${m}_test.gotest")" ] || fail "no cached tests: $(cat "$BIN3/$m/${m}_test.gotest")"
done
[ "$(proxy_requests)" = "$COLD_REQUESTS" ] || fail "step 3 asked the module proxy"
step "3. --noremote_accept_cached, empty store: ${RERUN}s, every action rerun, 0 compiles, every test (cached)"

# 4. One file of one package: greeter/names changes what Clean does and gains a function.
sed -i 's|strings.TrimSpace(name)|strings.TrimSpace(strings.ReplaceAll(name, "\\t", " "))|' "$WS/greeter/names/names.go"
printf '\n// Initial returns the first letter of a cleaned name.\nfunc Initial(name string) string { return Clean(name)[:1] }\n' \
    >>"$WS/greeter/names/names.go"
grep -q 'ReplaceAll' "$WS/greeter/names/names.go" || fail "the edit of names.go did not apply"
cp "$BIN1/inspector/inspector.golog" "$WORK/inspector-before.golog"
bzok "$OB1" "$WORK/4-build.log" build "${FLAGS[@]}" //...
bzok "$OB1" "$WORK/4-test.log" test "${FLAGS[@]}" //...
# Compiled: names, and of its dependents those whose inputs changed (go skips a dependent whose
# imports' export data did not change); never extra, a module or the standard library.
BUILT="$(compiled "$BIN1/greeter/greeter.golog" | tr '\n' ' ')"
TESTBUILT="$(compiled "$BIN1/greeter/greeter_test.golog" | tr '\n' ' ')"
for got in "$BUILT" "$TESTBUILT"; do
    case " $got" in *" example.com/mono/greeter/names "*) ;; *) fail "go did not compile names: $got" ;; esac
    for p in $got; do
        case "$p" in example.com/mono/greeter/names | example.com/mono/greeter/greet | main) ;;
            *) fail "go compiled $p, which does not depend on names ($got)" ;; esac
    done
done
RERUN_TESTS="$(tests_run "$BIN1/greeter/greeter_test.gotest" | tr '\n' ' ')"
[ "$RERUN_TESTS" = "example.com/mono/greeter/greet example.com/mono/greeter/names " ] || fail "tests rerun: $RERUN_TESTS"
[ "$(tests_cached "$BIN1/greeter/greeter_test.gotest")" = example.com/mono/greeter/extra ] || fail "extra's tests were not (cached)"
cmp -s "$BIN1/inspector/inspector.golog" "$WORK/inspector-before.golog" || fail "Bazel reran inspector's build"
step "4. one file: go build compiled $BUILT; go test compiled $TESTBUILT; reran the tests of $RERUN_TESTS; extra (cached)"

# 5. go.mod/go.sum unchanged: the module repository is not re-run; forced, it downloads nothing.
[ "$(proxy_requests)" = "$COLD_REQUESTS" ] || fail "step 4 asked the module proxy"
bzok "$OB1" "$WORK/5-sync.log" sync --only=greeter_modules
grep -q 'cached' "$OB1/external/greeter_modules/gomod.log" || fail "re-fetch: $(cat "$OB1/external/greeter_modules/gomod.log")"
[ "$(proxy_requests)" = "$COLD_REQUESTS" ] || fail "the re-fetch asked the module proxy"
step "5. unchanged go.mod/go.sum: no go mod download, no proxy request"

# 6. One go.sum change: inspector moves golang.org/x/sys v0.45.0 -> v0.46.0 (edited from the
#    file:// proxy, not the counting one); only that module version comes from the proxy.
(cd "$WS/inspector" && GOPROXY="file://$WORK/proxy" GOMODCACHE="$WORK/editcache" GOFLAGS=-modcacherw \
    GOTOOLCHAIN=local "$GO" get golang.org/x/sys@v0.46.0 >/dev/null 2>&1) || fail "go get golang.org/x/sys@v0.46.0"
: >"$WORK/proxy.log"
bzok "$OB1" "$WORK/6-test.log" test "${FLAGS[@]}" //inspector/...
SUM_REQUESTS=$(proxy_requests)
[ "$SUM_REQUESTS" -gt 0 ] || fail "the go.sum change asked the proxy nothing"
if grep -v ' /golang.org/x/sys/@v/v0.46.0\.' "$WORK/proxy.log"; then fail "other modules came from the proxy"; fi
grep -q '1 modules from the store' "$OB1/external/inspector_modules/gomod.log" || fail "not seeded: $(cat "$OB1/external/inspector_modules/gomod.log")"
step "6. go.sum change: $SUM_REQUESTS proxy requests, all for golang.org/x/sys@v0.46.0 ($(tr '\n' ' ' <"$WORK/proxy.log"))"

# 7. Bad input.
expect_error() { # log pattern what
    grep -q "$2" "$1" || { grep -v linux-sandbox "$1" | tail -20 >&2; fail "$3: no error matching '$2'"; }
}
(unset CASBRIDGE_CACHEPROG; bz "$OB1" "$WORK/7a.log" build "${FLAGS[@]}" //...) && fail "a build without cacheprog succeeded"
expect_error "$WORK/7a.log" 'set the cacheprog attribute or CASBRIDGE_CACHEPROG' "no cacheprog"
(CASBRIDGE_GO=/nonexistent/go bz "$OB1" "$WORK/7b.log" build "${FLAGS[@]}" //...) && fail "a build with a missing go succeeded"
expect_error "$WORK/7b.log" 'go /nonexistent/go (from CASBRIDGE_GO) does not exist' "no Go"
mv "$WS/inspector/go.sum" "$WORK/go.sum.saved"
bz "$OB1" "$WORK/7c.log" build "${FLAGS[@]}" //inspector/... && fail "a build without go.sum succeeded"
expect_error "$WORK/7c.log" 'go_sum //inspector:go.sum does not exist: run go mod tidy in' "missing go.sum"
mv "$WORK/go.sum.saved" "$WS/inspector/go.sum"
cp "$WS/greeter/go.mod" "$WORK/go.mod.saved"
sed -i '/golang.org\/x\/text/d' "$WS/greeter/go.mod"
bz "$OB1" "$WORK/7d.log" build "${FLAGS[@]}" //greeter/... && fail "a build with an untidy go.mod succeeded"
expect_error "$WORK/7d.log" 'go.mod does not require every module its packages import; run go mod tidy' "untidy go.mod"
cp "$WORK/go.mod.saved" "$WS/greeter/go.mod"
step "7. clear errors for no cacheprog, no Go, no go.sum, an untidy go.mod"
kill "$NGINX_PID"
wait "$NGINX_PID" 2>/dev/null || true
printf '\nfunc Last(name string) string { n := Clean(name); return n[len(n)-1:] }\n' >>"$WS/greeter/names/names.go"
bzok "$OB1" "$WORK/7e.log" test "${FLAGS[@]}" //...
step "7. remote down: build and tests still pass ($(processes "$WORK/7e.log"))"

echo "bazel-flow: ok: cold build+test ${COLD}s; new output base + empty store (remote cache) ${WARM}s; --noremote_accept_cached ${RERUN}s; go.sum change: ${SUM_REQUESTS} proxy requests"
