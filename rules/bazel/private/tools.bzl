"""casbridge_tools: a repository that names the Go SDK, cacheprog and the cacheprog store."""

CasbridgeToolsInfo = provider(
    doc = "The tools the Go actions run with.",
    fields = {
        "go": "File: the go binary (a symlink in the tools repository; an input of every action)",
        "goroot": "string: GOROOT",
        "cacheprog": "string: absolute path of cacheprog",
        "store": "string: absolute path of the cacheprog store (CASBRIDGE_DIR)",
    },
)

def _toolchain_impl(ctx):
    return [CasbridgeToolsInfo(
        go = ctx.file.go,
        goroot = ctx.attr.goroot,
        cacheprog = ctx.attr.cacheprog,
        store = ctx.attr.store,
    )]

casbridge_toolchain = rule(
    implementation = _toolchain_impl,
    doc = "Written by casbridge_tools into its repository; not for direct use.",
    attrs = {
        "go": attr.label(allow_single_file = True, mandatory = True),
        "goroot": attr.string(mandatory = True),
        "cacheprog": attr.string(mandatory = True),
        "store": attr.string(mandatory = True),
    },
)

def _find(rctx, attr_name, attr_value, variable, command):
    """Returns (path, how it was found) for a tool, or fails naming where to set it."""
    if attr_value:
        return attr_value, "the %s attribute" % attr_name
    env = rctx.os.environ.get(variable, "")
    if env:
        return env, variable
    if command:
        found = rctx.which(command)
        if found:
            return str(found), "PATH"
    return None, None

def _tools_impl(rctx):
    name = rctx.attr.name
    go, go_from = _find(rctx, "go", rctx.attr.go, "CASBRIDGE_GO", "go")
    if not go:
        fail("casbridge_tools(name = \"%s\"): no Go SDK found: set the go attribute (a go binary or a GOROOT), or CASBRIDGE_GO, or put go on PATH" % name)
    if rctx.path(go + "/bin/go").exists:
        go = go + "/bin/go"
    if not rctx.path(go).exists:
        fail("casbridge_tools(name = \"%s\"): go %s (from %s) does not exist" % (name, go, go_from))
    result = rctx.execute([go, "env", "GOROOT", "GOVERSION"], environment = {"GOTOOLCHAIN": "local", "GOFLAGS": ""})
    if result.return_code != 0:
        fail("casbridge_tools(name = \"%s\"): %s (from %s) does not run: %s" % (name, go, go_from, result.stderr))
    goroot, goversion = result.stdout.strip().split("\n")

    cacheprog, cacheprog_from = _find(rctx, "cacheprog", rctx.attr.cacheprog, "CASBRIDGE_CACHEPROG", None)
    if not cacheprog:
        fail("casbridge_tools(name = \"%s\"): no cacheprog: set the cacheprog attribute or CASBRIDGE_CACHEPROG to the cacheprog binary" % name)
    if not rctx.path(cacheprog).exists:
        fail("casbridge_tools(name = \"%s\"): cacheprog %s (from %s) does not exist" % (name, cacheprog, cacheprog_from))
    cacheprog = str(rctx.path(cacheprog).realpath)
    result = rctx.execute([cacheprog, "gomod", "--help"])
    if result.return_code != 0:
        fail("casbridge_tools(name = \"%s\"): cacheprog %s (from %s) does not run: %s" % (name, cacheprog, cacheprog_from, result.stderr))

    store = rctx.attr.store or rctx.os.environ.get("CASBRIDGE_DIR", "")
    if not store:
        home = rctx.os.environ.get("HOME", "")
        if not home:
            fail("casbridge_tools(name = \"%s\"): set the store attribute or CASBRIDGE_DIR (no HOME for the default)" % name)
        store = home + "/.cache/casbridge"
    if not store.startswith("/"):
        fail("casbridge_tools(name = \"%s\"): the store %s must be an absolute path" % (name, store))
    result = rctx.execute(["mkdir", "-p", store])
    if result.return_code != 0:
        fail("casbridge_tools(name = \"%s\"): cannot create the store %s: %s" % (name, store, result.stderr))

    rctx.symlink(go, "bin/go")
    rctx.file("tools.env", "GO=%s\nGOROOT=%s\nGOVERSION=%s\nCACHEPROG=%s\nCASBRIDGE_DIR=%s\n" % (
        go,
        goroot,
        goversion,
        cacheprog,
        store,
    ))
    rctx.file("BUILD.bazel", """load("{bzl}", "casbridge_toolchain")

exports_files(["tools.env", "bin/go"])

casbridge_toolchain(
    name = "toolchain",
    go = "bin/go",
    goroot = {goroot},
    cacheprog = {cacheprog},
    store = {store},
    visibility = ["//visibility:public"],
)
""".format(
        bzl = str(Label("//private:tools.bzl")),
        goroot = repr(goroot),
        cacheprog = repr(cacheprog),
        store = repr(store),
    ))

casbridge_tools = repository_rule(
    implementation = _tools_impl,
    doc = """Finds the Go SDK and cacheprog without downloading anything.

Go: the go attribute (a go binary or a GOROOT), else CASBRIDGE_GO, else go on PATH.
cacheprog: the cacheprog attribute, else CASBRIDGE_CACHEPROG. The store: the store
attribute, else CASBRIDGE_DIR, else ~/.cache/casbridge; it is created here, and it is part
of every Go action's key, so keep it at the same path on every machine sharing a cache.""",
    attrs = {
        "go": attr.string(doc = "A go binary or a GOROOT (default: CASBRIDGE_GO, then go on PATH)."),
        "cacheprog": attr.string(doc = "The cacheprog binary (default: CASBRIDGE_CACHEPROG)."),
        "store": attr.string(doc = "cacheprog's store directory (default: CASBRIDGE_DIR, then ~/.cache/casbridge)."),
    },
    environ = ["CASBRIDGE_GO", "CASBRIDGE_CACHEPROG", "CASBRIDGE_DIR", "PATH", "HOME"],
)
