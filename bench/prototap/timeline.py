#!/usr/bin/env python3
"""Summarises a prototap log: when the first get came, how long the go command had a request waiting, the
slowest requests, and requests and waiting per 50 ms of the run. Usage: timeline.py TAP_LOG"""
import collections
import re
import sys

events = []
for line in open(sys.argv[1]):
    parts = line.split(" ", 2)
    if len(parts) == 3:
        events.append((float(parts[0]), parts[1], parts[2].strip()))
asked, waits = {}, []
first_get = None
for t, direction, text in events:
    m = re.search(r'"ID":(\d+)', text)
    if not m:
        continue
    i = int(m.group(1))
    if direction == ">":
        asked[i] = (t, text)
        if '"get"' in text and first_get is None:
            first_get = t
    elif i in asked:
        waits.append((asked[i][0], t, t - asked[i][0], asked[i][1][:40]))
print(f"first line {events[0][0]:.1f} ms, first get {first_get} ms, last {events[-1][0]:.1f} ms, {len(waits)} requests")
busy, start, end = 0.0, None, None
for a, b in sorted((w[0], w[1]) for w in waits):
    if start is None:
        start, end = a, b
    elif a <= end:
        end = max(end, b)
    else:
        busy += end - start
        start, end = a, b
if start is not None:
    busy += end - start
print(f"time with a request waiting: {busy:.1f} ms")
for a, _, w, text in sorted(waits, key=lambda w: -w[2])[:8]:
    print(f"slow: asked at {a:.1f} ms, waited {w:.1f} ms: {text}")
buckets = collections.defaultdict(lambda: [0, 0.0])
for a, _, w, _ in waits:
    buckets[int(a // 50) * 50][0] += 1
    buckets[int(a // 50) * 50][1] += w
for k in sorted(buckets):
    print(f"t={k:5d} ms: {buckets[k][0]:4d} requests, {buckets[k][1]:7.1f} ms waited in all")
