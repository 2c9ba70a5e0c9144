# Part of rules/ci/tests/run.sh (sourced; uses its variables and helpers): the .deb built, installed with dpkg -i
# through the GitHub action, used by real go builds against an nginx remote in a default-branch job, a fork's pull
# request and a GitLab job through the template, then removed with dpkg -r.

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
mkdir -p "$ng/files"
cp "$deb" "$ng/files/"
port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
source "$repo/scripts/lib/nginx.sh"
write_nginx_conf "$ng" "$port" "        location /files/ {
            root $ng;
        }"
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
