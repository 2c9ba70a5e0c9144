"""cacheprog_go_binary and cacheprog_go_test: go build / go test as Bazel actions whose
Go build cache is cacheprog's content-addressed store."""

load(":modules.bzl", "GoModulesInfo")
load(":tools.bzl", "CasbridgeToolsInfo")

_COMMON_ATTRS = {
    "srcs": attr.label_list(
        allow_files = True,
        doc = "Every file of the module the build reads (usually glob([\"**/*.go\"]) plus embedded files).",
    ),
    "go_mod": attr.label(allow_single_file = True, mandatory = True, doc = "The module's go.mod."),
    "go_sum": attr.label(allow_single_file = True, mandatory = True, doc = "Its go.sum."),
    "modules": attr.label(
        mandatory = True,
        providers = [GoModulesInfo],
        doc = "The module cache: @<go_modules name>//:modules.",
    ),
    "cgo": attr.bool(default = False, doc = "CGO_ENABLED=1 (uses the C compiler on PATH: not hermetic)."),
    "_tools": attr.label(default = "@casbridge_tools//:toolchain", providers = [CasbridgeToolsInfo]),
}

# The action's script (bash): $1 is the output that receives go's stdout, $2 its stderr (-x
# lines included), $3 the exit status file or "" to fail the action on a non-zero
# status; the rest is the go command line. The store must be writable here: inside the
# sandbox that takes --sandbox_writable_path (or a non-sandboxed strategy).
_SCRIPT = """set -u
out=$1; log=$2; status_file=$3; shift 3
if [ ! -d "$CASBRIDGE_DIR" ] || [ ! -w "$CASBRIDGE_DIR" ]; then
  echo "cacheprog store $CASBRIDGE_DIR is not writable in this action: run Bazel with --sandbox_writable_path=$CASBRIDGE_DIR (or --strategy=$MNEMONIC=local)" >&2
  exit 1
fi
root=$PWD
work=$(mktemp -d "${TMPDIR:-/tmp}/casbridge-go.XXXXXX") || exit 1
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
export GOMODCACHE="$root/$GOMODCACHE" GOCACHE="$work/gocache" GOPATH="$work/gopath" HOME="$work/home"
export TMPDIR="$work"
cd "$MODULE_DIR" || exit 1
case "$out" in /*) ;; *) out="$root/$out" ;; esac
case "$log" in /*) ;; *) log="$root/$log" ;; esac
args=()
for a in "$@"; do
  case "$a" in @OUT@*) a="$root/${a#@OUT@}" ;; esac
  args+=("$a")
done
"$GOROOT/bin/go" "${args[@]}" >"$out" 2>"$log"
status=$?
if [ -n "$status_file" ]; then
  echo "$status" >"$root/$status_file"
  exit 0
fi
if [ "$status" -ne 0 ]; then
  echo "go ${args[0]} failed in $MODULE_DIR (exit status $status); the full log with go -x is $log:" >&2
  grep -E '^# |\\.go:[0-9]+|^go: |^FAIL|^--- |^panic|cannot |error' "$log" | grep -v '^mkdir \\|^cat \\|^cd ' >&2
  exit "$status"
fi
"""

def _env(ctx, tools, modules):
    env = dict(ctx.configuration.default_shell_env)
    env.update({
        "CASBRIDGE_DIR": tools.store,
        "CGO_ENABLED": "1" if ctx.attr.cgo else "0",
        "GOCACHEPROG": tools.cacheprog,
        "GOENV": "off",
        "GOFLAGS": "-mod=readonly -trimpath",
        "GOMODCACHE": modules.root,
        "GOPROXY": "off",
        "GOROOT": tools.goroot,
        "GOTOOLCHAIN": "local",
        "GOWORK": "off",
        "MODULE_DIR": ctx.file.go_mod.dirname,
        "PATH": tools.goroot + "/bin:" + env.get("PATH", "/usr/bin:/bin"),
    })
    return env

def _inputs(ctx, tools, modules):
    return depset(
        ctx.files.srcs + [ctx.file.go_mod, ctx.file.go_sum, tools.go, modules.digest],
        transitive = [modules.files],
    )

def _binary_impl(ctx):
    tools = ctx.attr._tools[CasbridgeToolsInfo]
    modules = ctx.attr.modules[GoModulesInfo]
    binary = ctx.actions.declare_file(ctx.attr.out or ctx.label.name)
    stdout = ctx.actions.declare_file(ctx.label.name + ".stdout")
    log = ctx.actions.declare_file(ctx.label.name + ".golog")
    ctx.actions.run_shell(
        command = _SCRIPT,
        arguments = [stdout.path, log.path, "", "build", "-x", "-o", "@OUT@" + binary.path, ctx.attr.package],
        inputs = _inputs(ctx, tools, modules),
        outputs = [binary, stdout, log],
        env = dict(_env(ctx, tools, modules), MNEMONIC = "CacheprogGoBuild"),
        mnemonic = "CacheprogGoBuild",
        progress_message = "go build %s (%s)" % (ctx.attr.package, ctx.label),
        execution_requirements = {"no-remote-exec": "1"},
    )
    return [
        DefaultInfo(files = depset([binary]), executable = binary),
        OutputGroupInfo(golog = depset([log, stdout])),
    ]

cacheprog_go_binary = rule(
    implementation = _binary_impl,
    executable = True,
    doc = "`go build -o <name> <package>` in the module of go_mod, as one Bazel action.",
    attrs = dict(_COMMON_ATTRS, **{
        "package": attr.string(default = ".", doc = "The package to build, relative to the module (./cmd/x)."),
        "out": attr.string(doc = "The binary's name (default: the target's name)."),
    }),
)

_TEST_RUNNER = """#!/bin/sh
# Replays the go test run recorded by the CacheprogGoTest action.
cat '{output}'
grep -E '^# |\\.go:[0-9]+|^go: |^FAIL|cannot |error' '{log}' | grep -v '^mkdir \\|^cat \\|^cd ' >&2
exit "$(cat '{status}')"
"""

def _test_impl(ctx):
    tools = ctx.attr._tools[CasbridgeToolsInfo]
    modules = ctx.attr.modules[GoModulesInfo]
    output = ctx.actions.declare_file(ctx.label.name + ".gotest")
    log = ctx.actions.declare_file(ctx.label.name + ".golog")
    status = ctx.actions.declare_file(ctx.label.name + ".status")
    ctx.actions.run_shell(
        command = _SCRIPT,
        arguments = [output.path, log.path, status.path, "test", "-x"] + ctx.attr.go_test_flags + ctx.attr.packages,
        inputs = _inputs(ctx, tools, modules),
        outputs = [output, log, status],
        env = dict(_env(ctx, tools, modules), MNEMONIC = "CacheprogGoTest"),
        mnemonic = "CacheprogGoTest",
        progress_message = "go test %s (%s)" % (" ".join(ctx.attr.packages), ctx.label),
        execution_requirements = {"no-remote-exec": "1"},
    )
    runner = ctx.actions.declare_file(ctx.label.name + ".sh")
    ctx.actions.write(runner, _TEST_RUNNER.format(
        output = output.short_path,
        log = log.short_path,
        status = status.short_path,
    ), is_executable = True)
    return [
        DefaultInfo(executable = runner, runfiles = ctx.runfiles(files = [output, log, status])),
        OutputGroupInfo(golog = depset([log, output])),
    ]

cacheprog_go_test = rule(
    implementation = _test_impl,
    test = True,
    doc = """`go test <packages>` in the module of go_mod, as one Bazel action.

The action records go test's output and exit status; the test replays them. Rerun by
Bazel (an input changed), go test answers every package whose inputs did not change from
its test cache in cacheprog's store: `(cached)`.""",
    attrs = dict(_COMMON_ATTRS, **{
        "packages": attr.string_list(default = ["./..."], doc = "Package patterns, relative to the module."),
        "go_test_flags": attr.string_list(doc = "Extra go test flags (a non-cacheable one such as -count=1 defeats the test cache)."),
    }),
)
