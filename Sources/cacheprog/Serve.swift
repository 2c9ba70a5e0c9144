import ArgumentParser

/// The GOCACHEPROG helper: `GOCACHEPROG=/path/to/cacheprog` runs this.
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the go command's build cache over stdin/stdout (the default).",
        discussion: """
            The go command starts this for every invocation when GOCACHEPROG names cacheprog. \
            Requests and responses are JSON lines on stdin and stdout; logs go to stderr.
            """)

    @OptionGroup var store: StoreOptions

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Remote store URL: http(s)://host[:port][/prefix], s3://bucket[/prefix][?region=&endpoint=&path_style=true], grpc(s)://host:port[/instance] (env CASBRIDGE_REMOTE).",
            valueName: "url"))
    var remote: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "A store only read, asked after --remote when it misses (a pull request's job reading the default branch's cache); repeatable, asked in order (env CASBRIDGE_REMOTE_READ, one URL per line).",
            valueName: "url"))
    var remoteRead: [String] = []

    @Option(
        name: .long,
        help: ArgumentHelp("readwrite or readonly (env CASBRIDGE_REMOTE_MODE; default readwrite).", valueName: "mode"))
    var remoteMode: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "How long close waits for background uploads, e.g. 5s (env CASBRIDGE_UPLOAD_TIMEOUT; default 5s).",
            valueName: "duration"))
    var uploadTimeout: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Name of the warm manifest: the entries a run used, kept in the remote so that the next run with an empty local store prefetches them; off disables it (env CASBRIDGE_MANIFEST; default default).",
            valueName: "name"))
    var manifest: String?

    @OptionGroup var trust: TrustOptions

    @Flag(name: .long, help: "Skip TLS certificate verification of the remote. For tests only.")
    var insecure = false

    @Flag(name: .shortAndLong, help: "Print a summary line to stderr at close (env CASBRIDGE_VERBOSE=1).")
    var verbose = false

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Write the run's statistics as JSON to this file at close (env CASBRIDGE_STATS_FILE).", valueName: "path"))
    var statsFile: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Add a JSON file with the run's statistics to this directory at close, one per run (env CASBRIDGE_STATS_DIR).",
            valueName: "dir"))
    var statsDir: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Write the run's metrics in the Prometheus text format to this file at close (env CASBRIDGE_METRICS_FILE).",
            valueName: "path"))
    var metricsFile: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Push the run's metrics to this Prometheus Pushgateway at close, as job cacheprog (env CASBRIDGE_METRICS_PUSH).",
            valueName: "url"))
    var metricsPush: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Size cap of automatic trims, e.g. 10GiB (env CASBRIDGE_MAX_SIZE; default 10GiB).", valueName: "size"))
    var maxSize: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Entries unused this long are trimmed automatically, e.g. 7d (env CASBRIDGE_MAX_AGE; default 7d).",
            valueName: "duration"))
    var maxAge: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Least time between automatic trims at close; 0 disables them (env CASBRIDGE_TRIM_INTERVAL; default 1h).",
            valueName: "duration"))
    var trimInterval: String?

    /// The parsed options as plain settings.
    var settings: ServeSettings {
        ServeSettings(
            dir: store.dir, remote: remote, remoteRead: remoteRead, remoteMode: remoteMode,
            uploadTimeout: uploadTimeout, insecure: insecure,
            verbose: verbose, statsFile: statsFile, statsDir: statsDir, metricsFile: metricsFile,
            metricsPush: metricsPush,
            maxSize: maxSize, maxAge: maxAge, trimInterval: trimInterval, manifest: manifest, trust: trust.settings)
    }

    func run() throws {
        try settings.run()
    }
}
