#!/usr/bin/env bash
# The whole test suite: installs what it needs (idempotent), checks formatting, builds, runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
export CASBRIDGE_TEST_GO="$PWD/.tools/gobin/go"
# Generated protobuf/gRPC code (Sources/*/Generated) is not ours to format.
git ls-files Package.swift "Sources/*.swift" "Tests/*.swift" | grep -v /Generated/ | xargs swift format lint --strict
swift build --build-tests
# In-process gRPC clients (and the zstd suite's in-process server) run on the Swift concurrency pool (two
# threads here), which the tests that wait on go builds hold for minutes: the REAPI store and zstd suites run on
# their own, after the rest.
swift test --skip-build --skip 'REAPIStoreTests|REAPICompressionTests'
swift test --skip-build --filter 'REAPIStoreTests|REAPICompressionTests'
# The Bazel rules (rules/): the example monorepo through Debian's Bazel, offline, with nginx as Bazel's remote
# cache and cacheprog's remote (rules/README.md, "Tests").
CACHEPROG="$PWD/.build/debug/cacheprog" GO="$CASBRIDGE_TEST_GO" bash rules/tests/bazel-flow.sh
