public import CASBridge

extension PrometheusExposition {
    /// Sends `text` to a Pushgateway at `gateway` (`http(s)://host:port[/path]`) as job
    /// `cacheprog`: an HTTP PUT to `{gateway}/metrics/job/cacheprog`, replacing the group.
    public static func push(_ text: String, to gateway: String, timeout: Duration = .seconds(5)) async throws {
        var base = gateway
        while base.hasSuffix("/") { base.removeLast() }
        let url = "\(base)/metrics/job/cacheprog"
        var options = HTTPClient.Options()
        options.requestTimeout = timeout
        options.connectTimeout = min(.seconds(3), timeout)
        options.retries = 1
        let client = HTTPClient(options: options)
        let response = try await client.send(
            method: "PUT", url: url, headers: [("Content-Type", contentType)], body: .bytes(Array(text.utf8)))
        guard response.isSuccess else {
            let detail = String(decoding: response.body.prefix(200), as: UTF8.self)
            throw CASError(.remote, "metrics push to \(url): HTTP \(response.status) \(detail)")
        }
    }
}
