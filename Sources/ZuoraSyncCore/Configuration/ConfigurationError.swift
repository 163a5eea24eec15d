import Foundation

/// A problem with a configuration file (pipeline or customers), pointing at the file, the line and
/// the key path, and saying what to do. Exit code 64.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable, Equatable {
    public let file: String
    public let line: Int?
    public let keyPath: String?
    public let message: String

    public init(file: String, line: Int? = nil, keyPath: String? = nil, message: String) {
        self.file = file
        self.line = line
        self.keyPath = keyPath
        self.message = message
    }

    public var description: String {
        var location = file
        if let line { location += ":\(line)" }
        if let keyPath, !keyPath.isEmpty { return "\(location): \(keyPath): \(message)" }
        return "\(location): \(message)"
    }
}

/// Finds the closest candidate to a misspelt word (Levenshtein distance), for "did you mean".
package enum Suggestion {
    package static func closest(to word: String, in candidates: [String]) -> String? {
        let scored = candidates.map { ($0, distance(word.lowercased(), $0.lowercased())) }
        guard let best = scored.min(by: { $0.1 < $1.1 }) else { return nil }
        return best.1 <= max(2, word.count / 3) ? best.0 : nil
    }

    package static func hint(for word: String, in candidates: [String]) -> String {
        if let match = closest(to: word, in: candidates) { return " Did you mean '\(match)'?" }
        return " Expected one of: \(candidates.joined(separator: ", "))."
    }

    private static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
