#!/usr/bin/env python3
"""Ages a local store, for load tests: makes every entry and blob look SECONDS older than now.

    scripts/age-store.py STORE SECONDS

Trim never removes what was used or written in the last hour, so a load test that wants trims to evict while
builds run first makes the store's contents older: every index record's last use becomes now - SECONDS, every
blob's modification time too, and each record's blob stamp (change time, inode) is rewritten to match the blob
as it is afterwards, so helpers trust the blobs as before instead of re-hashing them. No helper, trim or verify
may run on the store meanwhile. Byte format: docs/store-format.md.
"""
import os
import struct
import sys
import time

MASK = (1 << 64) - 1
RECORD = 128


def checksum(data, table):
    h = 0xCBF29CE484222325
    for i in range(0, 120, 8):
        word = 0 if table and i == 88 else struct.unpack_from("<Q", data, i)[0]
        h ^= word
        h = (h * 0x100000001B3) & MASK
        h ^= h >> 29
    return h


def age_record(data, offset, table, used, blobs):
    rec = data[offset:offset + RECORD]
    magic = b"CBT1" if table else b"CBX1"
    if len(rec) < RECORD or rec[:4] != magic or struct.unpack_from("<Q", rec, 120)[0] != checksum(rec, table):
        return False  # invalid records stay as they are
    output = rec[40:72].hex()
    try:
        st = os.stat(os.path.join(blobs, output[:2], output))
    except FileNotFoundError:
        st = None
    struct.pack_into("<q", data, offset + 88, used)
    if st is not None:
        struct.pack_into("<qQ", data, offset + 96, st.st_ctime_ns, st.st_ino)
    struct.pack_into("<Q", data, offset + 120, checksum(data[offset:offset + RECORD], table))
    return True


def main():
    store, seconds = sys.argv[1], int(sys.argv[2])
    root = os.path.join(store, "v1")
    blobs = os.path.join(root, "blobs")
    then = time.time_ns() - seconds * 1_000_000_000
    count = 0
    for shard in os.listdir(blobs):
        for name in os.listdir(os.path.join(blobs, shard)):
            if not name.startswith("."):
                os.utime(os.path.join(blobs, shard, name), ns=(then, then))
                count += 1
    aged = 0
    journal = os.path.join(root, "index")
    if os.path.exists(journal):
        with open(journal, "r+b") as f:
            data = bytearray(f.read())
            offset = 0
            while offset + RECORD <= len(data):
                if age_record(data, offset, False, then, blobs):
                    aged += 1
                    offset += RECORD
                else:
                    offset += 1
            f.seek(0)
            f.write(data)
    table = os.path.join(root, "table")
    if os.path.exists(table):
        with open(table, "r+b") as f:
            data = bytearray(f.read())
            if len(data) >= 64 and data[:4] == b"CBT2":
                records, bits = struct.unpack_from("<QI", data, 8)
                first = 64 + (4 << bits)
                for slot in range(records):
                    aged += age_record(data, first + slot * RECORD, True, then, blobs)
                f.seek(0)
                f.write(data)
    print(f"age-store: {count} blobs and {aged} records made {seconds} s older")


if __name__ == "__main__":
    main()
