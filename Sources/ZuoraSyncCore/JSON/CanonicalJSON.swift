import Foundation

/// Encodes and decodes the tool's own files (stage outputs, manifests, jobs) deterministically:
/// sorted keys, 2-space indentation, ISO 8601 dates, a trailing newline.
public enum CanonicalJSON {
    /// Encodes `value` canonically: the bytes match `JSONValue.canonicalData()` of the same value.
    public static func encode<T: Encodable>(_ value: T) throws -> Data {
        // Straight into bytes (no Foundation JSONEncoder and no text to parse back): Foundation's
        // coders were the largest CPU cost of an unchanged resync.
        var bytes = try JSONValueEncoder.canonicalBytes(value, pretty: true)
        bytes.append(0x0A)
        return Data(bytes)
    }

    /// Encodes `value` as one line of compact JSON with sorted keys (no newline): event and log lines.
    public static func encodeLine<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try JSONValueEncoder.canonicalBytes(value, pretty: false), as: UTF8.self)
    }

    /// Decodes a file written by `encode`, through the project's parser.
    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        try JSONValueDecoder.decode(type, from: JSONValue.parse(data))
    }

    /// Reads and decodes a file, naming the file in the error.
    public static func read<T: Decodable>(_ type: T.Type, from url: URL) throws -> T {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw FileError(path: url.path, message: "cannot read the file (\(error.localizedDescription))", cause: error)
        }
        do { return try decode(type, from: data) } catch {
            throw FileError(path: url.path, message: "the file is not a valid \(T.self): \(error)", cause: error)
        }
    }

    /// Encodes and writes atomically, only when the bytes differ from what is there. A large file
    /// is written in pieces as it is encoded (`AtomicFile.writeIfChanged(to:produce:)`): it never
    /// exists whole in memory. `formatVersion` is added as a field (a `VersionedFile`); `sharing`
    /// keeps a large file once for every run that writes the same bytes.
    @discardableResult
    public static func write<T: Encodable>(_ value: T, formatVersion: Int? = nil, to url: URL, sharing: SharedRunFiles? = nil) throws -> Bool {
        do {
            return try AtomicFile.writeIfChanged(to: url, sharing: sharing) { emit in
                try JSONValueEncoder.writeCanonical(value, pretty: true, extraFields: formatVersion.map { ["formatVersion": .int(Int64($0))] } ?? [:],
                                                    emit: emit)
                try emit([0x0A])
            }
        } catch is JSONValueEncoder.NotAnObject {
            throw FileError(path: url.path, message: "a versioned file must hold a JSON object")
        }
    }
}

/// UTC ISO 8601 timestamps with milliseconds, and the lenient parsing Zuora's samples need.
public enum Timestamp {
    /// `2019-05-31T14:52:38.171Z`. Truncates to the millisecond, so a time read back is never later
    /// than the time written.
    public static func format(_ date: Date) -> String {
        format(milliseconds: milliseconds(date))
    }

    /// Milliseconds since 1970, rounded down, of a date clamped to years 1...9999, so no date
    /// (from upstream or arithmetic) can trap the conversion.
    static func milliseconds(_ date: Date) -> Int64 {
        let seconds1970 = min(max(date.timeIntervalSince1970, -62_135_596_800), 253_402_300_799)
        return Int64((seconds1970 * 1000).rounded(.down))
    }

    /// The time `millis` milliseconds after 1970 (years 1...9999), as `format(_:)` writes it.
    public static func format(milliseconds millis: Int64) -> String {
        var seconds = millis / 1000
        var ms = millis % 1000
        if ms < 0 { ms += 1000; seconds -= 1 }
        let parts = civil(from: seconds)
        // Digits written by hand (`String(format:)` cost more than the rest of this on hot paths),
        // straight into the string's own storage: one allocation per time.
        return String(unsafeUninitializedCapacity: 24) { bytes in
            var count = 0
            func digits(_ value: Int, _ width: Int) {
                var divisor = 1
                for _ in 1..<width { divisor *= 10 }
                var rest = max(0, value)
                while divisor > 0 {
                    bytes[count] = UInt8(48 + (rest / divisor) % 10)
                    count += 1
                    rest %= divisor
                    divisor /= 10
                }
            }
            func byte(_ value: UInt8) { bytes[count] = value; count += 1 }
            digits(parts.year, 4); byte(45); digits(parts.month, 2); byte(45); digits(parts.day, 2)
            byte(84); digits(parts.hour, 2); byte(58); digits(parts.minute, 2); byte(58)
            digits(parts.second, 2); byte(46); digits(Int(ms), 3); byte(90)
            return count
        }
    }

    /// Accepts ISO 8601 with or without fractional seconds and with `Z` or an offset, and
    /// `YYYY-MM-DD HH:MM:SS` (taken as UTC). Returns nil for anything else.
    public static func parse(_ text: String) -> Date? {
        let scalars = Array(text.utf8)
        guard scalars.count >= 19 else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for index in range {
                let byte = scalars[index]
                guard byte >= 48, byte <= 57 else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            return value
        }
        guard let year = number(0..<4), scalars[4] == 45, let month = number(5..<7), scalars[7] == 45,
              let day = number(8..<10), scalars[10] == 84 || scalars[10] == 32,
              let hour = number(11..<13), scalars[13] == 58, let minute = number(14..<16), scalars[16] == 58,
              let second = number(17..<19),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var index = 19
        var fraction = 0.0
        if index < scalars.count, scalars[index] == 46 {
            index += 1
            var scale = 0.1
            let start = index
            while index < scalars.count, scalars[index] >= 48, scalars[index] <= 57 {
                fraction += Double(scalars[index] - 48) * scale
                scale /= 10
                index += 1
            }
            if index == start { return nil }
        }
        var offset = 0
        if index < scalars.count {
            switch scalars[index] {
            case 90 where index == scalars.count - 1: break // Z
            case 43, 45: // + or -
                let sign = scalars[index] == 43 ? 1 : -1
                let rest = Array(scalars[(index + 1)...]).filter { $0 != 58 }
                guard rest.count == 4, let hours = Int(String(decoding: rest[0..<2], as: UTF8.self)),
                      let minutes = Int(String(decoding: rest[2..<4], as: UTF8.self)) else { return nil }
                offset = sign * (hours * 3600 + minutes * 60)
            default: return nil
            }
        }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = Double(days * 86_400 + hour * 3600 + minute * 60 + second - offset) + fraction
        return Date(timeIntervalSince1970: seconds)
    }

    /// Milliseconds since 1970 of a time `parse` accepts, truncated as `format` truncates them:
    /// `format(milliseconds: milliseconds(of: text)!) == normalize(text)`.
    public static func milliseconds(of text: String?) -> Int64? {
        guard let text, let date = parse(text) else { return nil }
        return milliseconds(date)
    }

    /// Normalises a Zuora timestamp to UTC ISO 8601 with milliseconds; nil when unparseable.
    public static func normalize(_ text: String?) -> String? {
        guard let text, let date = parse(text) else { return nil }
        return format(date)
    }

    private static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    private static func civil(from seconds: Int64) -> (year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) {
        var days = Int(seconds / 86_400)
        var rest = Int(seconds % 86_400)
        if rest < 0 { rest += 86_400; days -= 1 }
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day, rest / 3600, (rest % 3600) / 60, rest % 60)
    }
}
