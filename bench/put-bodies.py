#!/usr/bin/env python3
"""Put-body cost of the helper: sends PUTS puts of SIZE bytes each (random, distinct) to each
helper binary over an empty local store, ROUNDS times interleaved, and prints per binary the
wall time of the puts (each waits for its answer, like the go command) and the helper's CPU
(its self-reported `cpuSeconds`). The go command sends every body as base64 in JSON, decoded on
the helper's request thread, so this is the per-byte cost a cold build pays on every output.

Usage: bench/put-bodies.py BINARY [BINARY ...] [--puts 150] [--size 1048576] [--rounds 4]
"""
import argparse, base64, hashlib, json, os, shutil, statistics, subprocess, tempfile, time


def run(binary, puts, size):
    work = tempfile.mkdtemp(prefix="casbridge-puts.")
    try:
        env = dict(os.environ, CASBRIDGE_STATS_FILE=os.path.join(work, "stats.json"))
        p = subprocess.Popen([binary, "--dir", os.path.join(work, "store")],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
        p.stdout.readline()  # capabilities
        filler = os.urandom(size)
        t = time.perf_counter()
        for i in range(puts):
            body = hashlib.sha256(str(i).encode()).digest() + filler[32:]
            request = {
                "ID": i + 1, "Command": "put",
                "ActionID": base64.b64encode(hashlib.sha256(b"action" + str(i).encode()).digest()).decode(),
                "OutputID": base64.b64encode(hashlib.sha256(body).digest()).decode(),
                "BodySize": len(body),
            }
            p.stdin.write(json.dumps(request).encode() + b'\n"' + base64.b64encode(body) + b'"\n')
            p.stdin.flush()
            answer = json.loads(p.stdout.readline())
            if answer.get("Err"):
                raise SystemExit(f"{binary}: put {i + 1} failed: {answer['Err']}")
        wall = time.perf_counter() - t
        p.stdin.write(b'{"ID": 0, "Command": "close"}\n')
        p.stdin.close()
        p.wait()
        with open(os.path.join(work, "stats.json")) as f:
            return wall, json.load(f)["cpuSeconds"]
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binaries", nargs="+")
    parser.add_argument("--puts", type=int, default=150)
    parser.add_argument("--size", type=int, default=1 << 20)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    results = {b: [] for b in args.binaries}
    for r in range(args.rounds):
        for b in args.binaries:
            wall, cpu = run(b, args.puts, args.size)
            results[b].append((wall, cpu))
            print(f"round {r + 1}: {b}: puts {wall:.3f} s, helper CPU {cpu:.3f} s", flush=True)
    mib = args.puts * args.size / (1 << 20)
    for b, rows in results.items():
        print(f"{b}: {args.puts} puts, {mib:.0f} MiB: median puts {statistics.median(w for w, _ in rows):.3f} s,"
              f" helper CPU {statistics.median(c for _, c in rows):.3f} s")


if __name__ == "__main__":
    main()
