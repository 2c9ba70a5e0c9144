#!/usr/bin/env python3
"""Builds a file:// GOPROXY for tests and benchmarks.

    goproxy.py add PROXY MODULE VERSION SRC [--go 1.22] [--require MOD@VER ...]

writes PROXY/<escaped module>/@v/{list,VERSION.info,VERSION.mod,VERSION.zip}. The zip holds
the regular files of SRC (recursively, no go.mod files from SRC, no hidden or testdata
directories) under the prefix MODULE@VERSION/, plus a generated go.mod with the given
requirements. Entries are sorted and carry a fixed time, so the same input gives the
same bytes. Upper-case letters in module paths are escaped as '!' + lower case.

    goproxy.py serve PROXY --port-file FILE --log FILE

serves PROXY over HTTP on 127.0.0.1 (a free port, written to --port-file once listening)
and appends one line per request (`<status> <path>`) to --log before answering, so a
test counts what the go command asked the proxy for.
"""
import argparse
import http.server
import os
import sys
import zipfile

FIXED_TIME = (2024, 1, 2, 3, 4, 5)


def escape(path):
    return "".join("!" + c.lower() if c.isupper() else c for c in path)


def go_mod(module, go, requires):
    text = f"module {module}\n\ngo {go}\n"
    if requires:
        text += "\nrequire (\n" + "".join(f"\t{r.replace('@', ' ', 1)}\n" for r in requires) + ")\n"
    return text


def source_files(src):
    out = []
    for root, dirs, files in os.walk(src):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")) and d != "testdata")
        for name in files:
            full = os.path.join(root, name)
            rel = os.path.relpath(full, src)
            if name == "go.mod" or name == "go.sum" or not os.path.isfile(full) or os.path.islink(full):
                continue
            out.append(rel)
    return sorted(out)


def add(proxy, module, version, src, go, requires):
    vdir = os.path.join(proxy, escape(module), "@v")
    os.makedirs(vdir, exist_ok=True)
    mod = go_mod(module, go, requires)
    prefix = f"{module}@{version}/"
    with zipfile.ZipFile(os.path.join(vdir, version + ".zip"), "w", zipfile.ZIP_DEFLATED) as z:
        entries = [(rel, os.path.join(src, rel)) for rel in source_files(src)] if src else []
        entries.append(("go.mod", None))
        for rel, full in sorted(entries):
            info = zipfile.ZipInfo(prefix + rel.replace(os.sep, "/"), FIXED_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            if full is None:
                z.writestr(info, mod)
            else:
                with open(full, "rb") as f:
                    z.writestr(info, f.read())
    with open(os.path.join(vdir, version + ".mod"), "w") as f:
        f.write(mod)
    with open(os.path.join(vdir, version + ".info"), "w") as f:
        f.write('{"Version":"%s","Time":"2024-01-02T03:04:05Z"}\n' % version)
    listing = os.path.join(vdir, "list")
    versions = set(open(listing).read().split()) if os.path.exists(listing) else set()
    versions.add(version)
    with open(listing, "w") as f:
        f.write("".join(v + "\n" for v in sorted(versions)))


def serve(proxy, port_file, log):
    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=proxy, **kw)

        def send_response(self, code, message=None):
            with open(log, "a") as f:
                f.write(f"{code} {self.path}\n")
            super().send_response(code, message)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    tmp = port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{server.server_address[1]}\n")
    os.rename(tmp, port_file)
    server.serve_forever()


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("add")
    a.add_argument("proxy")
    a.add_argument("module")
    a.add_argument("version")
    a.add_argument("src", nargs="?", default="")
    a.add_argument("--go", default="1.22")
    a.add_argument("--require", action="append", default=[])
    s = sub.add_parser("serve")
    s.add_argument("proxy")
    s.add_argument("--port-file", required=True)
    s.add_argument("--log", required=True)
    args = p.parse_args()
    if args.cmd == "serve":
        serve(args.proxy, args.port_file, args.log)
    else:
        add(args.proxy, args.module, args.version, args.src, args.go, args.require)


if __name__ == "__main__":
    sys.exit(main())
