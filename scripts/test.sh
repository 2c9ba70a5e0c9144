#!/usr/bin/env bash
# The whole test suite: installs what it needs (idempotent), checks formatting, builds, runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
export CASBRIDGE_TEST_GO="$PWD/.tools/gobin/go"
swift format lint --strict --recursive Package.swift Sources Tests
swift build --build-tests
swift test --skip-build
