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
