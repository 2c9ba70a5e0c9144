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
# rules/ci: casbridge-ci under simulated GitHub Actions and GitLab CI, and the .deb (built from the debug binary
# just built: a release build would add about ten minutes) installed with dpkg, used for go builds, removed.
bash rules/ci/tests/run.sh .build/debug/cacheprog
