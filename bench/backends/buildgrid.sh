# BuildGrid backend for the remote benchmarks (sourced; needs $work and free_port from bench/lib.sh): a
# cache-only REAPI server (action cache, CAS, ByteStream) in memory on loopback, instance "bench"
# (grpc://127.0.0.1:PORT/bench). Each further argument names one more instance with storage of its own
# (empty at start), for runs that need an empty remote: grpc://127.0.0.1:PORT/NAME. Sets server_pid,
# server_port, remote_url, backend_version.
start_buildgrid() {
    local d=$work/buildgrid bgd=$PWD/.tools/venv/bin/bgd name
    [ -x "$bgd" ] || { echo "missing $bgd: run scripts/install-deps.sh" >&2; exit 1; }
    mkdir -p "$d"
    server_port=$(free_port)
    {
        cat <<YML
server:
  - !channel
    address: "127.0.0.1:$server_port"
    insecure-mode: true
storages:
  - !lru-storage &cas
    size: 4GB
YML
        for name in "$@"; do
            printf '  - !lru-storage &cas-%s\n    size: 2GB\n' "$name"
        done
        cat <<YML
caches:
  - !lru-action-cache &ac
    storage: *cas
    max-cached-refs: 1000000
    allow-updates: true
    cache-failed-actions: true
YML
        for name in "$@"; do
            printf '  - !lru-action-cache &ac-%s\n    storage: *cas-%s\n    max-cached-refs: 1000000\n' "$name" "$name"
            printf '    allow-updates: true\n    cache-failed-actions: true\n'
        done
        echo "instances:"
        for name in bench "$@"; do
            local suffix=-$name
            [ "$name" = bench ] && suffix=
            cat <<YML
  - name: "$name"
    services:
      - !action-cache
        cache: *ac$suffix
      - !cas
        storage: *cas$suffix
      - !bytestream
        storage: *cas$suffix
YML
        done
        echo "thread-pool-size: 16"
    } >"$d/bg.yml"
    "$bgd" server start "$d/bg.yml" >"$d/bg.log" 2>&1 &
    server_pid=$!
    until python3 -c "import socket; socket.create_connection(('127.0.0.1', $server_port), 1)" 2>/dev/null; do
        kill -0 "$server_pid" 2>/dev/null || { cat "$d/bg.log" >&2; exit 1; }
        sleep 0.5
    done
    remote_url=grpc://127.0.0.1:$server_port/bench
    backend_version="BuildGrid $("$PWD/.tools/venv/bin/python" -c 'import importlib.metadata as m; print(m.version("buildgrid"))')"
}
