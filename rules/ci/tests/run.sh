#!/usr/bin/env bash
# Tests of rules/ci, run by scripts/test.sh:
#   - casbridge-ci setup under simulated GitHub Actions and GitLab CI runs: fork pull/merge requests read-only,
#     the default branch read-write, other branches read-only; exports through $GITHUB_ENV and eval; no secret
#     printed; clear errors;
#   - the .deb: built by rules/ci/build-deb.sh from the cacheprog the suite built, installed with dpkg -i through
#     the GitHub action, used for real go builds of GOROOT packages (GOPROXY=off) against an nginx remote: a default
#     branch job (cold build, then all hits, Markdown summary), a fork pull request (remote hits, nothing written
#     to the remote), a GitLab job through the template (text summary); then removed with dpkg -r.
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
setup_case gitlab "failed (1): casbridge-ci: CASBRIDGE_CACHEPROG: /nonexistent/cacheprog is not an executable file" \
    CI_COMMIT_BRANCH=main CASBRIDGE_CACHEPROG=/nonexistent/cacheprog
status=0
env -i PATH=/nonexistent "$(command -v bash)" "$ci" setup 2>"$work/no-cacheprog.err" || status=$?
expect "no cacheprog anywhere: a clear error" \
    '[[ $status -ne 0 ]] && grep -q "cacheprog not found on PATH: install the .deb" "$work/no-cacheprog.err"'
expect "a bad subcommand prints usage" '! "$ci" bogus 2>"$work/usage.err" && grep -q "^usage: casbridge-ci" "$work/usage.err"'
empty_summary=$(env -i PATH=/usr/bin:/bin CASBRIDGE_STATS_DIR="$work/none" "$ci" summary)
expect "summary of a job without go commands says so" 'grep -q "no go command used cacheprog" <<<"$empty_summary"'

# ---------------------------------------------------------------- the .deb
expect "build-deb refuses a missing binary" '! rules/ci/build-deb.sh --binary /nonexistent 2>"$work/deb.err" && grep -q "no executable cacheprog at /nonexistent" "$work/deb.err"'
expect "build-deb refuses a version dpkg would reject" '! rules/ci/build-deb.sh --binary "$binary" --version abc 2>"$work/deb.err" && grep -q "not a Debian version" "$work/deb.err"'
# gzip: the debug binary is large and xz would take minutes of this machine's CPU.
deb=$(rules/ci/build-deb.sh --binary "$binary" --out "$work/deb" --compress gzip)
depends=$(dpkg-deb -f "$deb" Depends)
expect "the .deb is cacheprog's, for this architecture" \
    '[[ $(dpkg-deb -f "$deb" Package) == cacheprog && $(dpkg-deb -f "$deb" Architecture) == $(dpkg --print-architecture) ]]'
for package in libcurl4 libzstd1 libxml2 libssl3 libc6; do
    expect "Depends names $package" '[[ ", $depends," == *", $package"[\ ,]* ]]'
done
for soname in $(grep -ho 'dlopen("[^"]*"' Sources/*/shim.h | sed 's/dlopen("//; s/"//'); do
    expect "build-deb covers the dlopen'ed $soname" 'grep -q "dlopened=(.*$soname" rules/ci/build-deb.sh'
done
expect "the .deb holds /usr/bin/cacheprog and /usr/bin/casbridge-ci" \
    '[[ $(dpkg-deb -c "$deb" | grep -c -e " ./usr/bin/cacheprog$" -e " ./usr/bin/casbridge-ci$") -eq 2 ]]'
echo "not a package" >"$work/bogus.deb"
expect "install refuses a file that is not a .deb" '! "$ci" install "$work/bogus.deb" 2>"$work/install.err" && grep -q "is not a .deb" "$work/install.err"'

# ---------------------------------------------------------------- nginx, the remote (bazel-remote layout)
ng=$work/nginx
mkdir -p "$ng"/{root/ac,root/cas,files,client_body,proxy,fastcgi,uwsgi,scgi}
cp "$deb" "$ng/files/"
port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$ng/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
error_log $ng/error.log warn;
pid $ng/nginx.pid;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $ng/client_body;
    proxy_temp_path $ng/proxy;
    fastcgi_temp_path $ng/fastcgi;
    uwsgi_temp_path $ng/uwsgi;
    scgi_temp_path $ng/scgi;
    server {
        listen 127.0.0.1:$port;
        location /files/ {
            root $ng;
        }
        location ~ "^/(ac|cas)/[0-9a-f]{64}\$" {
            dav_methods PUT;
            create_full_put_path on;
            client_max_body_size 0;
            root $ng/root;
        }
    }
}
EOF
"$(command -v nginx || echo /usr/sbin/nginx)" -p "$ng" -c "$ng/nginx.conf" -e "$ng/error.log" &
nginx_pid=$!
for _ in $(seq 200); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
    kill -0 "$nginx_pid" 2>/dev/null || die "nginx exited: $(cat "$ng/error.log")"
    sleep 0.05
done
remote_url="http://ci:$secret@127.0.0.1:$port"
deb_url="http://ci:$secret@127.0.0.1:$port/files/$(basename "$deb")"
stored() { find "$ng/root" -type f | wc -l; }

# A GitHub job: the action (install and setup), workflow steps, the action's summary step.
go_env() { # the environment of a go build here: offline, this Go, a private GOPATH/GOCACHE
    printf '"GOPROXY": "off", "GOFLAGS": "", "GOTOOLCHAIN": "local", "GOCACHE": "%s", "GOPATH": "%s", "GOROOT": "%s"' \
        "$1/gocache" "$1/gopath" "$("$go" env GOROOT)"
}
github_job() { # github_job NAME EVENT REF INPUTS-JSON STEPS...
    local name=$1 event_name=$2 ref=$3 inputs=$4 dir=$work/$1
    shift 4
    mkdir -p "$dir/runner"
    local steps="{\"uses\": \"$action\", \"with\": $inputs}"
    local run
    for run in "$@"; do steps+=", {\"run\": $(printf '%s' "$run" | "$python" -c 'import json, sys; print(json.dumps(sys.stdin.read()))')}"; done
    steps+=", {\"uses\": \"$action\", \"with\": {\"step\": \"summary\"}}"
    cat >"$dir/job.json" <<EOF
{"env": {"PATH": "$(dirname "$go"):/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "$dir", "GITHUB_ACTIONS": "true",
  "GITHUB_EVENT_NAME": "$event_name", "GITHUB_EVENT_PATH": "$gh/$event_name.json", "GITHUB_REF": "$ref",
  "GITHUB_REPOSITORY": "octo/app", "GITHUB_WORKFLOW": "ci", "GITHUB_JOB": "$name", "RUNNER_TEMP": "$dir/runner",
  "GITHUB_ENV": "$dir/github_env", "GITHUB_STEP_SUMMARY": "$dir/summary.md", "TMPDIR": "$dir",
  "CASBRIDGE_UPLOAD_TIMEOUT": "120s", $(go_env "$dir")},
 "steps": [$steps]}
EOF
    "$python" rules/ci/tests/github_job.py "$dir/job.json" >"$dir/log" 2>&1
}
event "$gh/push.json" "" octo/app
event "$gh/pull_request.json" mallory/app octo/app
# The nth (1-based) run record of a job's stats directory, as one field's value.
run_field() { # run_field STATS-DIR N EXPRESSION (python over the record r)
    "$python" -c 'import glob, json, sys
runs = [json.load(open(f)) for f in sorted(glob.glob(sys.argv[1] + "/*.json"))]
r = runs[int(sys.argv[2]) - 1]
print(eval(sys.argv[3]))' "$@"
}
total() { # total STATS-DIR KEY: the key summed over the job's runs
    "$python" -c 'import glob, json, sys
print(sum(json.load(open(f)).get(sys.argv[2], 0) for f in glob.glob(sys.argv[1] + "/*.json")))' "$@"
}

# 1. The default branch: dpkg -i through the action, a cold and a warm build with /usr/bin/cacheprog, summary.
# Libraries from GOROOT (go/format: gofmt's core, ~50 packages with their dependencies). Not a command: go build
# links a main package again every time (its get for the link misses; the executable is put under another key),
# so only compiles can all hit.
build="go build go/format go/doc"
# The warm build's process group is killed as soon as go exits, helper included if it is still running.
killed_with_group="setsid --wait bash -c '$build && kill -KILL 0' || test \$? -eq 137"
status=0
github_job main push refs/heads/main \
    "{\"deb\": \"$deb\", \"remote\": \"$remote_url\", \"http-headers\": \"X-Token: $header_secret\", \"dir\": \"$work/main/store\"}" \
    'test "$GOCACHEPROG" = /usr/bin/cacheprog' "$build" "$killed_with_group" || status=$?
installed=yes
stats=$work/main/runner/casbridge-stats
expect "default-branch job succeeded" '[[ $status -eq 0 ]] || { cat "$work/main/log"; false; }'
expect "the action installed the .deb with dpkg -i" 'grep -q "casbridge-ci: dpkg -i $deb" "$work/main/log"'
expect "dpkg lists cacheprog as installed" 'dpkg-query -W -f="\${Status}" cacheprog | grep -q "ok installed"'
expect "setup chose read-write and showed the remote redacted" 'grep -q "remote http://\*\*\*@127.0.0.1:$port readwrite" "$work/main/log"'
expect "two runs recorded, the second's though its process group was killed as go exited" '[[ $(ls "$stats"/*.json | wc -l) -eq 2 ]]'
expect "cold build: misses stored and uploaded" \
    '[[ $(run_field "$stats" 1 "r[\"misses\"] > 0 and r[\"puts\"] > 0 and r[\"remote\"][\"uploads\"] > 0 and r[\"builtActions\"] > 0") == True ]]'
expect "second build: every get a local hit" \
    '[[ $(run_field "$stats" 2 "r[\"gets\"] > 0 and r[\"localHits\"] == r[\"gets\"] and r[\"misses\"] == 0") == True ]]'
expect "nginx holds the uploads" '[[ $(stored) -gt 0 ]]'
summary=$(cat "$work/main/summary.md" 2>/dev/null || true)
hits=$(total "$stats" hits) gets=$(total "$stats" gets)
expect "Markdown summary in GITHUB_STEP_SUMMARY" '[[ $summary == "### cacheprog (CASBridge) build cache"* ]] && grep -q "^| --- | --- |$" <<<"$summary"'
expect "summary: hits and gets summed over the job's runs" 'grep -q "^| hits | $hits of $gets gets" <<<"$summary"'
expect "summary: bytes" 'grep -q "^| bytes | .* served from the cache, .* stored; remote .* down, .* up" <<<"$summary"'
expect "summary: time saved from the timed misses" 'grep -q "^| time saved | ≈ .*: $hits hits × " <<<"$summary"'
expect "summary: the remote, redacted, read-write" 'grep -q "^| remote | http://\*\*\*@127.0.0.1:$port readwrite" <<<"$summary"'
expect "no secret in the job's log or summary" \
    '! printed "$work/main/log" "$work/main/summary.md" | grep -q -e "$secret" -e "$header_secret"'
echo "--- summary of the default-branch job:"
cat "$work/main/summary.md"

# 2. A pull request from a fork, fresh store, same remote: served by the remote, nothing written to it.
before=$(stored)
status=0
github_job fork pull_request refs/pull/7/merge \
    "{\"deb\": \"$deb_url\", \"remote\": \"$remote_url\", \"remote-mode\": \"readwrite\", \"dir\": \"$work/fork/store\"}" \
    "$build" || status=$?
stats=$work/fork/runner/casbridge-stats
expect "fork job succeeded" '[[ $status -eq 0 ]] || { cat "$work/fork/log"; false; }'
expect "fork: the action installed the .deb from a URL, shown redacted" \
    'grep -q "casbridge-ci: downloading http://\*\*\*@127.0.0.1:$port/files/" "$work/fork/log" && grep -q "casbridge-ci: dpkg -i .*/cacheprog.deb" "$work/fork/log"'
expect "fork: no secret in the job's log" '! printed "$work/fork/log" "$work/fork/summary.md" | grep -q -e "$secret"'
expect "fork: the remote answered" '[[ $(run_field "$stats" 1 "r[\"remoteHits\"] > 0") == True ]]'
expect "fork: no upload attempted" '[[ $(run_field "$stats" 1 "r[\"remote\"][\"uploads\"] + r[\"remote\"][\"uploadsDropped\"] == 0") == True ]]'
expect "fork: the remote holds the same files as before" '[[ $(stored) -eq $before ]]'
expect "fork: the summary says read-only and why" 'grep -q "^| remote | .*readonly — GitHub pull request from the fork mallory/app" "$work/fork/summary.md"'

# 3. GitLab through the template: before_script (bootstrap from the .deb, install, setup), the job's script, and
#    after_script in a shell of its own, as the runner does.
gl=$work/gitlab
mkdir -p "$gl"
"$python" -c 'import sys, yaml
job = yaml.safe_load(open(sys.argv[1]))[".casbridge"]
open(sys.argv[2], "w").write("\n".join(job["before_script"]) + "\n")
open(sys.argv[3], "w").write("\n".join(job["after_script"]) + "\n")' "$template" "$gl/before.sh" "$gl/after.sh"
gitlab_env=(PATH="$(dirname "$go"):/usr/sbin:/usr/bin:/sbin:/bin" HOME="$gl" TMPDIR="$gl" GITLAB_CI=true CI_JOB_ID=4242
    CI_PROJECT_PATH=group/app CI_JOB_NAME=build CI_COMMIT_BRANCH=main CI_COMMIT_REF_NAME=main CI_DEFAULT_BRANCH=main
    CASBRIDGE_DEB="${deb_url/ci:$secret@/}" CASBRIDGE_REMOTE="$remote_url" CASBRIDGE_DIR="$gl/store" GOPROXY=off GOFLAGS=
    GOTOOLCHAIN=local GOCACHE="$gl/gocache" GOPATH="$gl/gopath")
status=0
{
    cat "$gl/before.sh"
    echo 'test "$CASBRIDGE_REMOTE_MODE" = readwrite'
    echo "$build"
} >"$gl/job.sh"
env -i "${gitlab_env[@]}" bash -eo pipefail "$gl/job.sh" >"$gl/log" 2>&1 || status=$?
expect "GitLab job succeeded" '[[ $status -eq 0 ]] || { cat "$gl/log"; false; }'
env -i "${gitlab_env[@]}" bash -eo pipefail "$gl/after.sh" >"$gl/summary.txt" 2>&1 || status=$?
stats=$gl/casbridge-stats-4242
expect "GitLab: the template downloaded the .deb, took casbridge-ci out of it, which installed it" \
    'grep -q "casbridge-ci: dpkg -i $gl/casbridge-cacheprog.deb" "$gl/log"'
expect "GitLab: every get a hit, from the remote" \
    '[[ $(run_field "$stats" 1 "r[\"gets\"] > 0 and r[\"hits\"] == r[\"gets\"] and r[\"remoteHits\"] > 0") == True ]]'
expect "GitLab: after_script printed the text summary" \
    'grep -q "^  hits: *$(total "$stats" hits) of $(total "$stats" gets) gets" "$gl/summary.txt" && grep -q "^  time saved: *not estimated" "$gl/summary.txt"'
expect "GitLab: no secret in the log or summary" '! grep -q -e "$secret" "$gl/log" "$gl/summary.txt"'
echo "--- summary of the GitLab job:"
cat "$gl/summary.txt"

# ---------------------------------------------------------------- removal
dpkg -r cacheprog >"$work/remove.log" 2>&1 && installed=no
expect "dpkg -r removed the package and its files" \
    '[[ $installed == no && ! -e /usr/bin/cacheprog && ! -e /usr/bin/casbridge-ci ]] && ! dpkg-query -W -f="\${Status}" cacheprog 2>/dev/null | grep -q "ok installed"'

if ((failures)); then
    echo "rules/ci/tests: $failures failed"
    exit 1
fi
echo "rules/ci/tests: all passed"
