#!/usr/bin/env bash
# The whole test suite: installs what it needs (idempotent), checks formatting, builds, runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
export CASBRIDGE_TEST_GO="$PWD/.tools/gobin/go"
# Generated protobuf/gRPC code (Sources/*/Generated) is not ours to format.
git ls-files Package.swift "Sources/*.swift" "Tests/*.swift" "fuzz/*.swift" | grep -v /Generated/ | xargs swift format lint --strict
swift build --build-tests
# A package that depends on this one by URL and version, as users' packages do: it builds only if no library product
# it uses needs unsafeFlags. The working tree's tracked files are tagged in a scratch repository (nothing in ours
# changes); dependencies other than this one at our pinned versions.
dependent_repo=$PWD/.build/dependent-package-repo/CASBridge.git
rm -rf "$dependent_repo"
git init -q --bare "$dependent_repo"
dependent_rev=$(git stash create)
dependent_rev=${dependent_rev:-$(git rev-parse HEAD)}
git push -q "$dependent_repo" "$dependent_rev:refs/tags/1.0.0-g$dependent_rev"
if [ -f Package.resolved ]; then cp Package.resolved Tests/DependentPackage/Package.resolved; fi
CASBRIDGE_DEPENDENT_URL="file://$dependent_repo" CASBRIDGE_DEPENDENT_VERSION="1.0.0-g$dependent_rev" \
    swift build --package-path Tests/DependentPackage --scratch-path .build/dependent-package
dependent_store=$(mktemp -d)
dependent_output=$(.build/dependent-package/debug/UsesCASBridge "$dependent_store/store")
rm -rf "$dependent_store"
[[ $dependent_output == "entries: 0,"* ]] || { echo "Tests/DependentPackage printed: $dependent_output" >&2; exit 1; }
# One run: tests await processes and servers as events (Tests/TestSupport: RunningProcess, ServerProcess,
# HelperProcess), so the go builds they wait on hold no thread of the concurrency pool that in-process gRPC
# clients and servers run on.
swift test --skip-build
# Fuzzing (docs/development.md, "Fuzzing"): every libFuzzer target a few seconds from its committed corpus, in its
# own sanitizer build (.build/fuzz); a crash fails the suite and leaves its input in fuzz/out/artifacts/.
bash fuzz/run.sh all 2
# Crash safety: the helper SIGKILLed at random moments of a cold `go build std` (a short loop; RELIABILITY.md has
# the 50-kill run with a release build), then verify finds nothing damaged and builds succeed with hits.
bash scripts/kill-helper.sh .build/debug/cacheprog 5 3000
# Load: 8 go commands at once (builds, vet, tests with different flags) on one store while trim with a small
# --max-size and verify run in a loop beside them (one round; RELIABILITY.md has the long run with a release build).
bash scripts/load-trim.sh .build/debug/cacheprog 1
# rules/ci: casbridge-ci under simulated GitHub Actions and GitLab CI, and the .deb (built from the debug binary
# just built: a release build would add about ten minutes) installed with dpkg, used for go builds, removed.
bash rules/ci/tests/run.sh .build/debug/cacheprog
# The Bazel rules (rules/): the example monorepo through Debian's Bazel, offline, with nginx as Bazel's remote
# cache and cacheprog's remote (rules/README.md, "Tests").
CACHEPROG="$PWD/.build/debug/cacheprog" GO="$CASBRIDGE_TEST_GO" bash rules/tests/bazel-flow.sh
