"""CASBridge's Bazel rules: Go builds and tests whose build cache is cacheprog's store.

    casbridge_tools(name = "casbridge_tools")          # repository rule: finds go and cacheprog
    go_modules(name, go_mod, go_sum)                    # repository rule: the module cache as a CAS tree
    cacheprog_go_binary(name, srcs, go_mod, go_sum, modules, package)
    cacheprog_go_test(name, srcs, go_mod, go_sum, modules, packages)
    remote_coverage_tools_stub(name = "remote_coverage_tools")   # offline: Bazel 4's tests need it

See rules/README.md.
"""

load("//private:tools.bzl", _casbridge_tools = "casbridge_tools")
load("//private:modules.bzl", _GoModulesInfo = "GoModulesInfo", _go_modules = "go_modules")
load("//private:stubs.bzl", _remote_coverage_tools_stub = "remote_coverage_tools_stub")
load("//private:go.bzl", _cacheprog_go_binary = "cacheprog_go_binary", _cacheprog_go_test = "cacheprog_go_test")

casbridge_tools = _casbridge_tools
go_modules = _go_modules
GoModulesInfo = _GoModulesInfo
cacheprog_go_binary = _cacheprog_go_binary
cacheprog_go_test = _cacheprog_go_test
remote_coverage_tools_stub = _remote_coverage_tools_stub
