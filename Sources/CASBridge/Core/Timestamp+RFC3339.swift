extension Timestamp {
    /// The time in RFC 3339 with nanoseconds, UTC: `2006-01-02T15:04:05.999999999Z`.
    ///
    /// Trailing zeros of the fraction are dropped, as Go's `time.RFC3339Nano` does.
    public var rfc3339: String {
        var out = [UInt8]()
        out.reserveCapacity(30)
        appendRFC3339(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the RFC 3339 form to a byte buffer.
    public func appendRFC3339(to out: inout [UInt8]) {
        let secs = nanoseconds.floorDiv(1_000_000_000)
        let nanos = nanoseconds.floorMod(1_000_000_000)
        let days = secs.floorDiv(86_400)
        let secOfDay = secs.floorMod(86_400)
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468
        let era = z.floorDiv(146_097)
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)

        func digits(_ v: Int64, _ width: Int) {
            var buf = [UInt8](repeating: UInt8(ascii: "0"), count: width)
            var v = v
            var i = width - 1
            while i >= 0 {
                buf[i] = UInt8(ascii: "0") + UInt8(v % 10)
                v /= 10
                i -= 1
            }
            out.append(contentsOf: buf)
        }
        digits(year, 4)
        out.append(UInt8(ascii: "-"))
        digits(month, 2)
        out.append(UInt8(ascii: "-"))
        digits(day, 2)
        out.append(UInt8(ascii: "T"))
        digits(secOfDay / 3600, 2)
        out.append(UInt8(ascii: ":"))
        digits(secOfDay / 60 % 60, 2)
        out.append(UInt8(ascii: ":"))
        digits(secOfDay % 60, 2)
        if nanos != 0 {
            var frac = nanos
            var width = 9
            while frac % 10 == 0 {
                frac /= 10
                width -= 1
            }
            out.append(UInt8(ascii: "."))
            digits(frac, width)
        }
        out.append(UInt8(ascii: "Z"))
    }

    /// Parses an RFC 3339 timestamp such as `2006-01-02T15:04:05.999999999Z` or with a
    /// numeric offset. Returns nil for anything else.
    public init?(rfc3339 text: some StringProtocol) {
        let b = Array(text.utf8)
        func num(_ from: Int, _ count: Int) -> Int64? {
            guard from + count <= b.count else { return nil }
            var v: Int64 = 0
            for i in from..<(from + count) {
                guard b[i] >= 48, b[i] <= 57 else { return nil }
                v = v * 10 + Int64(b[i] - 48)
            }
            return v
        }
        guard b.count >= 20, let year = num(0, 4), b[4] == UInt8(ascii: "-"),
            let month = num(5, 2), b[7] == UInt8(ascii: "-"), let day = num(8, 2),
            b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t"),
            let hour = num(11, 2), b[13] == UInt8(ascii: ":"), let minute = num(14, 2),
            b[16] == UInt8(ascii: ":"), let second = num(17, 2),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var i = 19
        var nanos: Int64 = 0
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            var scale: Int64 = 100_000_000
            let start = i
            while i < b.count, b[i] >= 48, b[i] <= 57 {
                nanos += Int64(b[i] - 48) * scale
                scale /= 10
                i += 1
            }
            guard i > start else { return nil }
        }
        guard i < b.count else { return nil }
        var offset: Int64 = 0
        if b[i] == UInt8(ascii: "Z") || b[i] == UInt8(ascii: "z") {
            i += 1
        } else if b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
            guard let oh = num(i + 1, 2), b.count > i + 3, b[i + 3] == UInt8(ascii: ":"),
                let om = num(i + 4, 2)
            else { return nil }
            offset = (oh * 3600 + om * 60) * (b[i] == UInt8(ascii: "+") ? 1 : -1)
            i += 6
        } else {
            return nil
        }
        guard i == b.count else { return nil }
        // days_from_civil.
        let y = month <= 2 ? year - 1 : year
        let era = y.floorDiv(400)
        let yoe = y - era * 400
        let mp = month > 2 ? month - 3 : month + 9
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset
        self.init(nanoseconds: secs * 1_000_000_000 + nanos)
    }
}
