#!/usr/bin/env bash
# Tests of rules/ci, run by scripts/test.sh:
#   - casbridge-ci setup under simulated GitHub Actions and GitLab CI runs: fork pull/merge requests read-only,
#     the default branch read-write, other branches read-only; exports through $GITHUB_ENV and eval; no secret
#     printed; clear errors;
#   - the .deb: built by rules/ci/build-deb.sh from the cacheprog the suite built, installed with dpkg -i through
#     the GitHub action, used for real go builds of GOROOT packages (GOPROXY=off) against an nginx remote: a default
#     branch job (cold build, then all hits, Markdown summary), a fork pull request (remote hits, nothing written
#     to the remote), a GitLab job through the template (text summary); then removed with dpkg -r (jobs.sh).
#
#   rules/ci/tests/run.sh [CACHEPROG]     default .build/debug/cacheprog
#
# Needs root (dpkg), nginx, .tools/gobin/go and .tools/venv (scripts/install-deps.sh).
set -euo pipefail
cd "$(dirname "$0")/../../.."
repo=$PWD
binary=$(realpath "${1:-.build/debug/cacheprog}")
go=${CASBRIDGE_TEST_GO:-$repo/.tools/gobin/go}
python=$repo/.tools/venv/bin/python
ci=$repo/rules/ci/casbridge-ci
action=$repo/rules/ci/github/action.yml
template=$repo/rules/ci/gitlab/casbridge.gitlab-ci.yml
secret=s3cr3tpw header_secret=hdrs3cr3t

die() {
    echo "rules/ci/tests: $*" >&2
    exit 1
}
[[ -x $binary ]] || die "no cacheprog at $binary: swift build first"
[[ -x $go ]] || die "no go at $go: run scripts/install-deps.sh"
[[ -x $python ]] || die "no $python: run scripts/install-deps.sh"
[[ $(id -u) -eq 0 ]] || die "needs root: it installs and removes the .deb with dpkg"
command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || die "nginx missing: run scripts/install-deps.sh"
if dpkg-query -W -f='${Status}' cacheprog 2>/dev/null | grep -q "ok installed"; then
    die "a cacheprog package is already installed here; the test installs and removes its own, so remove it first (dpkg -r cacheprog)"
fi

work=$(mktemp -d /tmp/casbridge-ci-tests.XXXXXX)
nginx_pid="" installed=no
cleanup() {
    if [[ -n $nginx_pid ]]; then kill "$nginx_pid" 2>/dev/null || true; fi
    if [[ $installed == yes ]]; then dpkg -r cacheprog >/dev/null 2>&1 || true; fi
    chmod -R u+w "$work" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

failures=0
expect() { # expect DESCRIPTION CONDITION...
    local what=$1
    shift
    if eval "$@"; then echo "ok   $what"; else
        echo "FAIL $what    [$*]"
        failures=$((failures + 1))
    fi
}
# The last value of NAME written to a GITHUB_ENV file.
env_file_value() { "$python" -c 'import sys; sys.path.insert(0, sys.argv[3])
import github_job
env = {}
github_job.read_env_file(sys.argv[1], env, consume=False)
print(env.get(sys.argv[2], "<unset>"))' "$1" "$2" "$repo/rules/ci/tests"; }
# Stdout lines other than GitHub's ::add-mask:: commands (which the runner does not print).
printed() { grep -v '^::add-mask::' "$@" || true; }

# ---------------------------------------------------------------- setup: which runs write the remote
remote_url="http://ci:$secret@127.0.0.1:9/prefix"
event() { # event FILE HEAD BASE: a pull request payload (HEAD empty: a push payload)
    if [[ -n $2 ]]; then
        printf '{"pull_request":{"head":{"repo":{"full_name":"%s"}},"base":{"repo":{"full_name":"%s"}}},"repository":{"full_name":"%s","default_branch":"main"}}\n' "$2" "$3" "$3" >"$1"
    else
        printf '{"ref":"x","repository":{"full_name":"%s","default_branch":"main"}}\n' "$3" >"$1"
    fi
}
case_number=0
# setup_case KIND EXPECTED-MODE VAR=value...: runs setup in a clean environment with the variables given.
setup_case() {
    local kind=$1 expected=$2
    shift 2
    case_number=$((case_number + 1))
    local dir=$work/setup/$case_number
    mkdir -p "$dir/runner"
    local base=(PATH="/usr/bin:/bin" HOME="$dir" TMPDIR="$dir" CASBRIDGE_CACHEPROG="$binary"
        CASBRIDGE_REMOTE="$remote_url" CASBRIDGE_HTTP_HEADERS=$'X-Token: '"$header_secret"$'\nX-Team: go')
    if [[ $kind == github ]]; then
        base+=(GITHUB_ACTIONS=true GITHUB_ENV="$dir/env" RUNNER_TEMP="$dir/runner" GITHUB_REPOSITORY=octo/app
            GITHUB_WORKFLOW=ci GITHUB_JOB=build)
    elif [[ $kind == gitlab ]]; then
        base+=(GITLAB_CI=true CI_JOB_ID=$case_number CI_PROJECT_PATH=group/app CI_JOB_NAME=build CI_DEFAULT_BRANCH=main)
    fi
    local status=0
    env -i "${base[@]}" "$@" "$ci" setup >"$dir/out" 2>"$dir/err" || status=$?
    local mode
    if [[ $status -ne 0 ]]; then
        mode="failed ($status): $(cat "$dir/err")"
    elif [[ $kind == github ]]; then
        mode=$(env_file_value "$dir/env" CASBRIDGE_REMOTE_MODE)
    else
        mode=$(env -i "${base[@]}" "$@" bash -c "eval \"\$(cat '$dir/out')\"; echo \"\$CASBRIDGE_REMOTE_MODE\"")
    fi
    expect "setup $kind $*: $expected" '[[ $mode == "$expected" ]]'
    expect "setup $kind $*: no secret printed" \
        '! printed "$dir/out" | grep -q -e "$secret" -e "$header_secret" && ! grep -q -e "$secret" -e "$header_secret" "$dir/err"'
    last_case=$dir
}
gh=$work/events
mkdir -p "$gh"
event "$gh/fork.json" mallory/app octo/app
event "$gh/same.json" octo/app octo/app
event "$gh/push.json" "" octo/app
setup_case github readonly GITHUB_EVENT_NAME=pull_request GITHUB_EVENT_PATH="$gh/fork.json" GITHUB_REF=refs/pull/7/merge CASBRIDGE_REMOTE_MODE=readwrite
expect "a fork's readwrite request is refused aloud" 'grep -q "ignored: a fork never writes" "$last_case/err"'
expect "GitHub masks the credentials" 'grep -qx "::add-mask::$secret" "$last_case/out" && grep -qx "::add-mask::$header_secret" "$last_case/out"'
expect "stderr names the fork and shows the remote redacted" \
    'grep -q "from the fork mallory/app into octo/app" "$last_case/err" && grep -q "http://\*\*\*@127.0.0.1:9/prefix" "$last_case/err"'
setup_case github readonly GITHUB_EVENT_NAME=pull_request_target GITHUB_EVENT_PATH="$gh/fork.json" GITHUB_REF=refs/heads/main
setup_case github readonly GITHUB_EVENT_NAME=pull_request GITHUB_EVENT_PATH="$gh/same.json" GITHUB_REF=refs/pull/8/merge
setup_case github readonly GITHUB_EVENT_NAME=pull_request GITHUB_EVENT_PATH="$gh/missing.json" GITHUB_REF=refs/pull/9/merge
setup_case github readwrite GITHUB_EVENT_NAME=push GITHUB_EVENT_PATH="$gh/push.json" GITHUB_REF=refs/heads/main
expected_headers=$'X-Token: '"$header_secret"$'\nX-Team: go'
expect "GITHUB_ENV carries the multi-line headers whole" \
    '[[ $(env_file_value "$last_case/env" CASBRIDGE_HTTP_HEADERS) == "$expected_headers" ]]'
expect "GITHUB_ENV carries GOCACHEPROG and the remote" \
    '[[ $(env_file_value "$last_case/env" GOCACHEPROG) == "$binary" && $(env_file_value "$last_case/env" CASBRIDGE_REMOTE) == "$remote_url" ]]'
expect "the default manifest is per repository, workflow, job and platform" \
    '[[ $(env_file_value "$last_case/env" CASBRIDGE_MANIFEST) == "github/octo/app/ci/build/linux-$(uname -m)" ]]'
setup_case github readwrite GITHUB_EVENT_NAME=schedule GITHUB_EVENT_PATH="$gh/push.json" GITHUB_REF=refs/heads/main
setup_case github readonly GITHUB_EVENT_NAME=push GITHUB_EVENT_PATH="$gh/push.json" GITHUB_REF=refs/heads/feature
setup_case github readwrite GITHUB_EVENT_NAME=push GITHUB_EVENT_PATH="$gh/push.json" GITHUB_REF=refs/heads/feature CASBRIDGE_REMOTE_MODE=readwrite
setup_case github readwrite GITHUB_EVENT_NAME=push GITHUB_EVENT_PATH="$gh/push.json" GITHUB_REF=refs/heads/trunk CASBRIDGE_CI_DEFAULT_BRANCH=trunk
setup_case gitlab readonly CI_MERGE_REQUEST_SOURCE_PROJECT_ID=99 CI_MERGE_REQUEST_PROJECT_ID=12 CI_COMMIT_REF_NAME=feature CASBRIDGE_REMOTE_MODE=readwrite
setup_case gitlab readonly CI_MERGE_REQUEST_SOURCE_PROJECT_ID=12 CI_MERGE_REQUEST_PROJECT_ID=12 CI_COMMIT_REF_NAME=feature
setup_case gitlab readwrite CI_COMMIT_BRANCH=main CI_COMMIT_REF_NAME=main
expect "eval mode prints export lines without secret values" \
    'grep -qx "export CASBRIDGE_REMOTE" "$last_case/out" && grep -qx "export CASBRIDGE_HTTP_HEADERS" "$last_case/out"'
gitlab_eval=$(env -i PATH=/usr/bin:/bin CASBRIDGE_REMOTE="$remote_url" GITLAB_CI=true CI_JOB_ID=1 CI_PROJECT_PATH=g/p \
    CI_JOB_NAME=test CI_COMMIT_BRANCH=main CI_DEFAULT_BRANCH=main CASBRIDGE_CACHEPROG="$binary" TMPDIR="$work" \
    bash -c 'eval "$("$0" setup 2>/dev/null)"; env' "$ci")
expect "eval mode: the exports reach the shell" \
    'grep -qx "GOCACHEPROG=$binary" <<<"$gitlab_eval" && grep -qx "CASBRIDGE_REMOTE=$remote_url" <<<"$gitlab_eval" && grep -qx "CASBRIDGE_MANIFEST=gitlab/g/p/test/linux-$(uname -m)" <<<"$gitlab_eval"'
setup_case gitlab readonly CI_COMMIT_BRANCH=feature CI_COMMIT_REF_NAME=feature
setup_case none readonly
setup_case gitlab "failed (1): casbridge-ci: CASBRIDGE_REMOTE_MODE: 'sometimes' is not readwrite or readonly" \
    CI_COMMIT_BRANCH=main CASBRIDGE_REMOTE_MODE=sometimes
setup_case github "failed (1): casbridge-ci: CASBRIDGE_REMOTE_MODE: 'sometimes' is not readwrite or readonly" \
    GITHUB_EVENT_NAME=push GITHUB_REF_NAME=main CASBRIDGE_REMOTE_MODE=sometimes
expect "a refused setup writes nothing to GITHUB_ENV" '[[ ! -s "$last_case/env" ]]'
setup_case gitlab "failed (1): casbridge-ci: CASBRIDGE_CACHEPROG: /nonexistent/cacheprog is not an executable file" \
    CI_COMMIT_BRANCH=main CASBRIDGE_CACHEPROG=/nonexistent/cacheprog
status=0
env -i PATH=/nonexistent "$(command -v bash)" "$ci" setup 2>"$work/no-cacheprog.err" || status=$?
expect "no cacheprog anywhere: a clear error" \
    '[[ $status -ne 0 ]] && grep -q "cacheprog not found on PATH: install the .deb" "$work/no-cacheprog.err"'
expect "a bad subcommand prints usage" '! "$ci" bogus 2>"$work/usage.err" && grep -q "^usage: casbridge-ci" "$work/usage.err"'
empty_summary=$(env -i PATH=/usr/bin:/bin CASBRIDGE_STATS_DIR="$work/none" "$ci" summary)
expect "summary of a job without go commands says so" 'grep -q "no go command used cacheprog" <<<"$empty_summary"'

# The .deb, nginx, and the GitHub and GitLab jobs that build through the installed cacheprog.
# shellcheck source=jobs.sh
source rules/ci/tests/jobs.sh

if ((failures)); then
    echo "rules/ci/tests: $failures failed"
    exit 1
fi
echo "rules/ci/tests: all passed"
