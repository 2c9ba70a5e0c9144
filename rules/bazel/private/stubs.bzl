"""remote_coverage_tools_stub: an offline stand-in for Bazel's @remote_coverage_tools.

Every test rule depends on @remote_coverage_tools (coverage report tools that Bazel 4
downloads from the network on first use). Without network access that fetch fails the
analysis of any test, even without coverage. This repository provides the two targets
the test rules name, as tools that fail with a message when coverage is asked for."""

_TOOL_BZL = '''
def _impl(ctx):
    out = ctx.actions.declare_file(ctx.label.name + ".sh")
    ctx.actions.write(out, "#!/bin/sh\\necho \\"%s is a stub: coverage is not available offline\\" >&2\\nexit 1\\n" % ctx.label.name, is_executable = True)
    return [DefaultInfo(executable = out, files = depset([out]))]

stub_tool = rule(implementation = _impl, executable = True)
'''

def _impl(rctx):
    rctx.file("tool.bzl", _TOOL_BZL)
    rctx.file("BUILD.bazel", """load(":tool.bzl", "stub_tool")

stub_tool(name = "coverage_report_generator", visibility = ["//visibility:public"])

stub_tool(name = "lcov_merger", visibility = ["//visibility:public"])
""")

remote_coverage_tools_stub = repository_rule(
    implementation = _impl,
    doc = "Define as remote_coverage_tools in WORKSPACE (before anything else) to run tests offline.",
)
