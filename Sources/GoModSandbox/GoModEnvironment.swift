import Glibc

/// The environment of a hermetic build step over a materialised module cache.
public enum GoModEnvironment {
    /// This process's environment.
    public static var current: [String: String] { Subprocess.currentEnvironment }

    /// `base` with the sandbox settings: GOMODCACHE, GOPROXY=off, GOFLAGS with
    /// `-mod=readonly` (`-mod=vendor` when vendored) replacing any `-mod=` and without
    /// `-insecure` or `-modcacherw`, GOCACHEPROG, and GOTOOLCHAIN=local and GOWORK=off
    /// unless set. GOSUMDB, GONOSUMDB and GONOSUMCHECK are left alone: go.sum is verified
    /// against the cache's `.ziphash` and `.mod` files whatever they say.
    public static func sandbox(
        base: [String: String], moduleCache: String, vendored: Bool, cacheProg: String?
    ) -> [String: String] {
        var env = base
        env["GOMODCACHE"] = moduleCache
        env["GOPROXY"] = "off"
        var flags = (base["GOFLAGS"] ?? "").split(separator: " ").map(String.init).filter { word in
            !(word.hasPrefix("-mod=") || word.hasPrefix("--mod=") || word == "-insecure" || word == "--insecure"
                || word.hasPrefix("-modcacherw") || word.hasPrefix("--modcacherw"))
        }
        flags.append(vendored ? "-mod=vendor" : "-mod=readonly")
        env["GOFLAGS"] = flags.joined(separator: " ")
        if let cacheProg { env["GOCACHEPROG"] = cacheProg }
        if (env["GOTOOLCHAIN"] ?? "").isEmpty { env["GOTOOLCHAIN"] = "local" }
        if (env["GOWORK"] ?? "").isEmpty { env["GOWORK"] = "off" }
        return env
    }

    /// Quotes `word` for GOCACHEPROG (split by the go command like a shell would) when
    /// it holds spaces or quotes.
    public static func quote(_ word: String) -> String {
        if !word.contains(where: { $0 == " " || $0 == "\t" || $0 == "'" || $0 == "\"" }) { return word }
        if !word.contains("'") { return "'\(word)'" }
        return "\"\(word)\""
    }

    /// The full path of `name` on `path`, or nil.
    public static func find(_ name: String, path: String?) -> String? {
        Subprocess.find(name, path: path)
    }
}
