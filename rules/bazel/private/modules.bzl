"""go_modules: a module's dependencies as a content-addressed tree, fetched by cacheprog gomod."""

GoModulesInfo = provider(
    doc = "A materialised module cache (GOMODCACHE) from `cacheprog gomod`.",
    fields = {
        "root": "string: the GOMODCACHE directory, relative to the execution root",
        "files": "depset of File: every file in it (declared inputs of the Go actions)",
        "digest": "File: the tree digest (one line of hex)",
    },
)

def _module_cache_impl(ctx):
    return [
        DefaultInfo(files = depset([ctx.file.digest])),
        GoModulesInfo(
            root = ctx.file.digest.dirname + "/modcache",
            files = depset(ctx.files.srcs),
            digest = ctx.file.digest,
        ),
    ]

go_module_cache = rule(
    implementation = _module_cache_impl,
    doc = "Written by go_modules into its repository; not for direct use.",
    attrs = {
        "srcs": attr.label_list(allow_files = True),
        "digest": attr.label(allow_single_file = True, mandatory = True),
    },
)

def _env_file(rctx, label):
    values = {}
    for line in rctx.read(label).splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            values[k] = v
    return values

def _go_modules_impl(rctx):
    what = "go_modules(name = \"%s\")" % rctx.attr.name
    tools = _env_file(rctx, rctx.attr.tools)
    same_package = rctx.attr.go_sum.package == rctx.attr.go_mod.package
    if not same_package or rctx.attr.go_sum.workspace_name != rctx.attr.go_mod.workspace_name:
        fail("%s: go_sum %s must be beside go_mod %s" % (what, rctx.attr.go_sum, rctx.attr.go_mod))
    go_mod = rctx.path(rctx.attr.go_mod)

    # Checked by path first: resolving a missing file's label fails with a less helpful message.
    go_sum = go_mod.dirname.get_child(rctx.attr.go_sum.name)
    if not go_sum.exists:
        fail("%s: go_sum %s does not exist: run go mod tidy in %s" % (what, rctx.attr.go_sum, go_mod.dirname))

    # Reading both files through their labels makes Bazel re-run this rule when either changes.
    rctx.read(rctx.attr.go_mod)
    rctx.read(rctx.attr.go_sum)

    path = "%s:%s" % (tools["GO"].rpartition("/")[0], rctx.os.environ.get("PATH", "/usr/bin:/bin"))
    env = {"PATH": path, "CASBRIDGE_DIR": tools["CASBRIDGE_DIR"]}
    rctx.report_progress("cacheprog gomod download %s" % go_mod.dirname)
    download = rctx.execute(
        [tools["CACHEPROG"], "gomod", "download", "--quiet", str(go_mod.dirname)],
        environment = env,
        timeout = rctx.attr.timeout,
        quiet = True,
    )
    if download.return_code != 0:
        fail("%s: cacheprog gomod download %s failed:\n%s" % (what, go_mod.dirname, download.stderr))
    digest = download.stdout.strip()
    if len(digest) != 64:
        fail("%s: cacheprog gomod download printed %r, not a tree digest" % (what, download.stdout))
    result = rctx.execute(
        [tools["CACHEPROG"], "gomod", "materialize", "--quiet", digest, "--into", "modcache"],
        environment = env,
        timeout = rctx.attr.timeout,
        quiet = True,
    )
    if result.return_code != 0:
        fail("%s: cacheprog gomod materialize %s failed:\n%s" % (what, digest, result.stderr))

    # Bazel stops a glob at a directory holding a BUILD file: such a module would lose files.
    result = rctx.execute(["find", "modcache", "-name", "BUILD", "-o", "-name", "BUILD.bazel"], quiet = True)
    if result.stdout.strip():
        fail("%s: the module cache holds Bazel BUILD files, which would split it into packages: %s" % (
            what,
            result.stdout.strip().replace("\n", ", "),
        ))
    rctx.file("digest.txt", digest + "\n")
    rctx.file("gomod.log", download.stderr)
    rctx.file("BUILD.bazel", """load("{bzl}", "go_module_cache")

exports_files(["digest.txt"])

go_module_cache(
    name = "modules",
    srcs = glob(["modcache/**"], exclude = ["modcache/.casbridge-gomod-tree"]),
    digest = "digest.txt",
    visibility = ["//visibility:public"],
)
""".format(bzl = str(Label("//private:modules.bzl"))))

go_modules = repository_rule(
    implementation = _go_modules_impl,
    doc = """The module cache of one Go module (go.mod + go.sum) as an external repository.

Runs `cacheprog gomod download` for the module (a key already in the local store or in
CASBRIDGE_REMOTE costs neither the go command nor the module proxy) and materialises the
tree into `modcache/`. Targets: `:modules` (GoModulesInfo: the module cache as declared
inputs) and `:digest.txt` (the tree digest). Re-run only when go.mod, go.sum, the tools or
the CASBRIDGE_REMOTE* variables change.""",
    attrs = {
        "go_mod": attr.label(mandatory = True, allow_single_file = True, doc = "The module's go.mod."),
        "go_sum": attr.label(mandatory = True, allow_single_file = True, doc = "The go.sum beside it."),
        "tools": attr.label(default = "@casbridge_tools//:tools.env", doc = "tools.env of casbridge_tools."),
        "timeout": attr.int(default = 1800, doc = "Seconds the download may take."),
    },
    environ = ["CASBRIDGE_REMOTE", "CASBRIDGE_REMOTE_MODE", "CASBRIDGE_HTTP_HEADERS", "CASBRIDGE_GRPC_HEADERS"],
)
