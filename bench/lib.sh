# Shared by the remote benchmarks (sourced).

# CPU seconds (user + system) used so far by process $1 and its descendants.
cpu_seconds() {
    local pids=("$1") all=() next
    while ((${#pids[@]})); do
        all+=("${pids[@]}")
        next=$(pgrep -d' ' -P "$(IFS=,; echo "${pids[*]}")" || true)
        read -r -a pids <<<"$next"
    done
    local p
    for p in "${all[@]}"; do awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || true; done \
        | awk -v t="$(getconf CLK_TCK)" '{s += $1} END {printf "%.2f", s / t}'
}

# A free TCP port on 127.0.0.1, below 55535: SeaweedFS puts a component's gRPC port at its port + 10000.
free_port() {
    python3 -c '
import socket
while True:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    if p < 55535:
        print(p)
        break'
}

# Waits (up to 10 s) until something accepts connections on 127.0.0.1:$1; exits the script if nothing does.
wait_port() {
    for _ in $(seq 200); do
        if python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $1), 0.2)" 2>/dev/null; then return 0; fi
        sleep 0.05
    done
    echo "nothing listens on 127.0.0.1:$1" >&2; exit 1
}

# Seconds the file system under $1 takes to create and rename 1,150 empty files (the number of blobs an
# empty store receives in a warm `go build std`) in 256 directories: the part of a remote run that is the
# machine's, not the helper's. The files stay (deleting them would slow the next allocations; see below).
fs_probe() {
    python3 - "$1" <<'PY'
import os, sys, time
d = sys.argv[1]
t = time.perf_counter()
for i in range(256):
    os.makedirs(f"{d}/{i:02x}")
for i in range(1150):
    p = f"{d}/{i % 256:02x}/.t{i}"
    os.close(os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
    os.rename(p, p[:-len(f".t{i}")] + f"f{i}")
print(f"{time.perf_counter() - t:.2f}")
PY
}

# Waits (up to 7 minutes) until fs_probe under $1 takes at most 0.08 s, and prints how long it waited.
# ext4 without a journal (this VM's disk) skips, when it allocates an inode, every free inode of the group
# that was deleted in the last 60 s, or 360 s while its inode-table block is dirty (recently_deleted() in
# fs/ext4/ialloc.c): after a mass deletion, such as an earlier benchmark's or test run's cleanup, each new
# file costs up to a millisecond of kernel time for minutes. That is the machine's state, not the helper's,
# and the built-in side creates no files; the timed runs start once it has passed. No `sync` here: creating
# files dirties the inode tables, which stretches the window to 360 s for the runs, so the probe must see that
# too (after the previous script's cleanup a probe of synced tables passed at once and the runs that followed
# took 0.25 s per probe). A settled probe takes 0.03-0.05 s on this machine.
settle_fs() {
    local waited=0 probe i=0 last
    # The probe alone passes too early after a benchmark's cleanup: its ~1,400 new inodes still find unused
    # ones, while the timed runs' ~12,000 march into the deleted ones. So first wait out the 360 s window
    # after the last cleanup a benchmark script recorded.
    last=$(cat "${TMPDIR:-/tmp}/casbridge-bench-deleted" 2>/dev/null || echo 0)
    while (($(date +%s) < last + 370)); do sleep 5; waited=$((waited + 5)); done
    while true; do
        i=$((i + 1))
        probe=$(fs_probe "$1/settle-$i")
        if [ "$(echo "$probe <= 0.08" | bc)" = 1 ] || ((waited >= 420)); then break; fi
        sleep 15
        waited=$((waited + 15))
    done
    echo "file system settled after ${waited} s (probe $probe s)"
}

# Records that a script just deleted its work directory (see settle_fs).
mark_deletion() {
    date +%s >"${TMPDIR:-/tmp}/casbridge-bench-deleted"
}

# The go command's work directories go to a tmpfs when there is one, so that the populating cold builds
# delete nothing on the disk the timed runs write to (see settle_fs).
use_tmpfs_gotmpdir() {
    if [ -d /dev/shm ] && [ -w /dev/shm ]; then
        GOTMPDIR=$(mktemp -d /dev/shm/casbridge-bench-gotmp.XXXXXX)
        export GOTMPDIR
    fi
}

# One timed `go build std` from an empty local store and GOCACHE in the new directory $2, through the helper
# ($bin; $go and now() come from the script) with remote $1 whose server is process $3. Prints
# "wall helper-cpu server-cpu fs-probe" in seconds; the run's stats JSON is $2/stats.json. The helper's CPU is
# what it reports there (`cpuSeconds`, getrusage at the end of the run): a wrapper such as /usr/bin/time would
# hold the go command's end of the pipe open until the helper and the wrapper had exited, and the go command
# waits for that pipe to close, so the wrapper's wait (the helper's housekeeping after closing stdout, and its
# exit) would be timed as part of the build.
# HELPER_PREFIX="perf record -g -o FILE -- " runs the helper under a profiler (or any wrapper; timed with it).
timed_remote_run() {
    local url=$1 dir=$2 pid=$3 probe t0 t1 s0 s1
    mkdir -p "$dir"
    probe=$(fs_probe "$dir/fs-probe")
    s0=$(cpu_seconds "$pid")
    sync  # no write-back of the previous run's files during this one
    t0=$(now)
    GOCACHE=$dir/gocache GOCACHEPROG="${HELPER_PREFIX:-}$bin --dir $dir/store --remote $url" \
        CASBRIDGE_STATS_FILE=$dir/stats.json $go build std
    t1=$(now)
    s1=$(cpu_seconds "$pid")
    # The helper finishes its housekeeping after the go command has returned: let it end before anything else.
    for _ in $(seq 3000); do pgrep -f -- "--dir $dir/store" >/dev/null || break; sleep 0.01; done
    echo "$(echo "$t1 - $t0" | bc) $(python3 -c 'import json, sys; print("%.2f" % json.load(open(sys.argv[1]))["cpuSeconds"])' "$dir/stats.json") $(echo "$s1 - $s0" | bc) $probe"
}

# Seconds to write 128 MiB into a new file under $1, twice: into fresh memory, then (after deleting the first
# file) into the pages just freed. On a VM whose host backs guest memory lazily and takes freed pages back
# (Firecracker with free page reporting, like the one BENCHMARKS.md was measured on), the first costs several
# times the second: every page an empty store's files occupy is such a fresh page, while the built-in side's
# files are already in the page cache. Prints "fresh recycled".
page_probe() {
    python3 - "$1" <<'PY'
import os, sys, time
d = sys.argv[1]
os.makedirs(d, exist_ok=True)
chunk = os.urandom(1 << 20)
def write(path):
    t = time.perf_counter()
    with open(path, "wb") as f:
        for _ in range(128):
            f.write(chunk)
    return time.perf_counter() - t
fresh = write(f"{d}/a")
os.unlink(f"{d}/a")
recycled = write(f"{d}/b")
os.unlink(f"{d}/b")
print(f"{fresh:.2f} {recycled:.2f}")
PY
}

# The environment every benchmark's go commands run in: toolchain and module proxy off, no telemetry, the go
# command's work directories on a tmpfs (use_tmpfs_gotmpdir), and no setting of the caller's reaching the helper
# (a flag wins over its variable, but not every setting is a flag). Also defines now() and elapsed().
bench_environment() {
    export GOTOOLCHAIN=local GOPROXY=off GOENV=off GOTELEMETRY=off GOFLAGS= CGO_ENABLED=1
    use_tmpfs_gotmpdir
    unset GOCACHEPROG
    local v
    for v in $(compgen -e | grep '^CASBRIDGE_' | grep -v '^CASBRIDGE_BENCH_' || true); do unset "$v"; done
}
now() { date +%s.%N; }
elapsed() { echo "$(now) - $1" | bc | awk '{printf "%.1f", $1}'; }

# Ends the processes given (servers, proxies), then removes the work directory $work and GOTMPDIR and records
# the deletion (see settle_fs). For the scripts' EXIT traps.
remove_work() {
    local pid
    for pid in "$@"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
    chmod -R u+w "$work"; rm -rf "$work"
    if [ -n "${GOTMPDIR:-}" ]; then rm -rf "$GOTMPDIR"; fi
    mark_deletion
}

# Sets bin to the cacheprog binary a benchmark runs: $CACHEPROG as it is, else a release build into the SwiftPM
# scratch directory $CASBRIDGE_BENCH_SCRATCH (default .build), built now.
select_cacheprog() {
    if [ -n "${CACHEPROG:-}" ]; then
        bin=$(realpath "$CACHEPROG")
        return
    fi
    local scratch=${CASBRIDGE_BENCH_SCRATCH:-.build}
    swift build -c release --scratch-path "$scratch" --product cacheprog >/dev/null 2>&1 ||
        swift build -c release --scratch-path "$scratch" --product cacheprog
    bin=$PWD/$scratch/release/cacheprog
}
