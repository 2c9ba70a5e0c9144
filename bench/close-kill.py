"""How often a helper's report is lost when it is killed right after answering close.

    python3 bench/close-kill.py CACHEPROG [RUNS]

Each run drives CACHEPROG over pipes as the go command does (a miss, a put, a hit, close) with --stats-file and -v,
reads the close response, SIGKILLs the helper at once (as when the go command's process group ends with it) and
counts runs whose stats file or -v line is missing.
"""

import base64
import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile


def one_run(cacheprog, work, n):
    stats = os.path.join(work, f"stats-{n}.json")
    helper = subprocess.Popen(
        [cacheprog, "--dir", os.path.join(work, "store"), "-v", "--stats-file", stats],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={k: v for k, v in os.environ.items() if not k.startswith("CASBRIDGE_")})
    helper.stdout.readline()
    action = base64.b64encode(hashlib.sha256(b"action %d" % n).digest()).decode()
    body = b"output %d" % n
    output = base64.b64encode(hashlib.sha256(body).digest()).decode()
    requests = [
        {"ID": 1, "Command": "get", "ActionID": action},
        {"ID": 2, "Command": "put", "ActionID": action, "OutputID": output, "BodySize": len(body)},
        {"ID": 3, "Command": "get", "ActionID": action},
    ]
    for r in requests:
        helper.stdin.write(json.dumps(r).encode() + b"\n\n")
        if r["Command"] == "put":
            helper.stdin.write(json.dumps(base64.b64encode(body).decode()).encode() + b"\n")
        helper.stdin.flush()
        helper.stdout.readline()
    helper.stdin.write(b'{"ID":4,"Command":"close"}\n\n')
    helper.stdin.flush()
    helper.stdout.readline()
    os.kill(helper.pid, signal.SIGKILL)
    helper.wait()
    stderr = helper.stderr.read().decode()
    return os.path.exists(stats), "1 puts" in stderr


def main():
    cacheprog, runs = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 100
    lost_stats = lost_line = 0
    with tempfile.TemporaryDirectory() as work:
        for n in range(runs):
            has_stats, has_line = one_run(cacheprog, work, n)
            lost_stats += not has_stats
            lost_line += not has_line
    print(f"{cacheprog}: {runs} runs, stats file lost in {lost_stats}, -v line lost in {lost_line}")


if __name__ == "__main__":
    main()
