extension ServeSettings {
    /// Parses the helper's command line without swift-argument-parser, which costs
    /// milliseconds of reflection at every start of a process the go command starts for
    /// every invocation.
    ///
    /// Returns nil for anything but a plain `[serve] [--flag value | --flag=value | -v]…` line
    /// of `serve`'s own flags, each at most once (`--remote-read` any number of times): help, subcommands, unknown flags, missing
    /// values and repeats go to swift-argument-parser, which reports them.
    init?(commandLine arguments: some Collection<String>) {
        var rest = arguments[...]
        if rest.first == "serve" { rest = rest.dropFirst() }
        var seen = Set<String>()
        while let argument = rest.popFirst() {
            let name: String
            var value: String?
            if let equals = argument.firstIndex(of: "="), argument.hasPrefix("--") {
                name = String(argument[..<equals])
                value = String(argument[argument.index(after: equals)...])
            } else {
                name = argument
            }
            // --remote-read is the one flag that may repeat.
            guard seen.insert(name == "-v" ? "--verbose" : name).inserted || name == "--remote-read" else {
                return nil
            }
            switch name {
            case "-v", "--verbose", "--insecure":
                guard value == nil else { return nil }
                if name == "--insecure" { insecure = true } else { verbose = true }
                continue
            default:
                break
            }
            if value == nil {
                guard let next = rest.popFirst(), !next.hasPrefix("-") else { return nil }
                value = next
            }
            switch name {
            case "--dir": dir = value
            case "--remote": remote = value
            case "--remote-mode": remoteMode = value
            case "--remote-read": remoteRead.append(value!)
            case "--upload-timeout": uploadTimeout = value
            case "--stats-file": statsFile = value
            case "--stats-dir": statsDir = value
            case "--metrics-file": metricsFile = value
            case "--metrics-push": metricsPush = value
            case "--max-size": maxSize = value
            case "--max-age": maxAge = value
            case "--trim-interval": trimInterval = value
            case "--manifest": manifest = value
            case "--signing-key-file": trust.signingKeyFile = value
            case "--trusted-keys-file": trust.trustedKeysFile = value
            case "--trust": trust.trust = value
            default: return nil
            }
        }
    }
}
