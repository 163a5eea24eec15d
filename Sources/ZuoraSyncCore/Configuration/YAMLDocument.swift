import Foundation
import Yams

/// Reads a YAML file into nodes that remember their line, and reports every problem as a
/// `ConfigurationError` with the file, line and key path.
package struct YAMLDocument {
    package let file: String
    package let root: Node

    package init(text: String, file: String) throws {
        self.file = file
        guard text.utf8.count <= Self.maximumBytes else {
            throw ConfigurationError(file: file, message: "is \(text.utf8.count) bytes; a configuration file may be at most 1 MB.")
        }
        if let (count, line) = Self.aliasCount(text), count > Self.maximumAliases {
            throw ConfigurationError(file: file, line: line, message: "uses \(count) YAML aliases (*name); at most \(Self.maximumAliases) are accepted, since aliases of aliases grow exponentially. Write the values out.")
        }
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw ConfigurationError(file: file, line: 1, message: "the file is empty. See the example next to it.")
            }
            root = node
        } catch let error as YamlError {
            throw Self.configurationError(error, file: file)
        }
    }

    /// Configuration files larger than this are refused (they are a few KB).
    package static let maximumBytes = 1_048_576
    /// At most this many aliases (`*name`) per file: aliases of aliases expand exponentially.
    package static let maximumAliases = 16

    package static func load(path: String) throws -> YAMLDocument {
        var info = stat()
        if stat(path, &info) == 0 {
            guard (info.st_mode & S_IFMT) == S_IFREG else {
                throw ConfigurationError(file: path, message: "is not a regular file.")
            }
            guard Int(info.st_size) <= maximumBytes else {
                throw ConfigurationError(file: path, message: "is \(info.st_size) bytes; a configuration file may be at most 1 MB.")
            }
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError(file: path, message: "cannot read the file. Check the path (it is relative to the current directory).")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigurationError(file: path, message: "the file is not UTF-8 text.")
        }
        return try YAMLDocument(text: text, file: path)
    }

    /// Counts alias tokens (`*name` where a YAML value, key or list item can start: after a space,
    /// tab, line start, `[`, `{`, `,`, `-`, `?` or `:`), skipping comments and quoted scalars
    /// (single-quoted: `''` escapes a quote; double-quoted: backslash escapes), with the line of
    /// the last one. Conservative: a `*` it cannot place is counted.
    static func aliasCount(_ text: String) -> (Int, Int)? {
        var count = 0, line = 1, lastLine = 0
        var quote: Character?
        var previous: Character = "\n"
        var escaped = false
        var inComment = false
        let starters: Set<Character> = [" ", "\t", "\n", "[", "{", ",", "-", "?", ":"]
        var characters = Array(text)[...]
        while let character = characters.popFirst() {
            defer { previous = character }
            if character == "\n" { line += 1; inComment = false }
            if inComment { continue }
            if let open = quote {
                if open == "\"" {
                    if escaped { escaped = false } else if character == "\\" { escaped = true } else if character == "\"" { quote = nil }
                } else if character == "'" {
                    if characters.first == "'" { _ = characters.popFirst() } else { quote = nil }
                }
                continue
            }
            if (character == "\"" || character == "'") && starters.contains(previous) {
                quote = character
            } else if character == "#" && (previous == " " || previous == "\t" || previous == "\n") {
                inComment = true
            } else if character == "*" && starters.contains(previous) {
                count += 1
                lastLine = line
            }
        }
        return count == 0 ? nil : (count, lastLine)
    }

    package func mapping(_ node: Node, path: String) throws -> YAMLMapping {
        guard let mapping = node.mapping else {
            throw ConfigurationError(file: file, line: node.mark?.line, keyPath: path, message: "expected a mapping (key: value pairs).")
        }
        return YAMLMapping(document: self, mapping: mapping, path: path, line: node.mark?.line)
    }

    package func error(_ node: Node?, _ path: String, _ message: String) -> ConfigurationError {
        ConfigurationError(file: file, line: node?.mark?.line, keyPath: path, message: message)
    }

    private static func configurationError(_ error: YamlError, file: String) -> ConfigurationError {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            let detail = [context?.text, problem].compactMap { $0 }.joined(separator: ": ")
            return ConfigurationError(file: file, line: mark.line, message: "malformed YAML (\(detail), column \(mark.column)).")
        case .duplicatedKeysInMapping(let duplicates, let context):
            return ConfigurationError(file: file, line: context.mark.line,
                                      message: "duplicate key(s) \(duplicates.joined(separator: ", ")) in one mapping; keep one.")
        default:
            return ConfigurationError(file: file, message: "malformed YAML (\(error)).")
        }
    }
}

/// One YAML mapping being read: typed accessors with defaults and ranges, and a final check that
/// rejects keys nobody read (with a "did you mean").
package final class YAMLMapping {
    package let document: YAMLDocument
    package let mapping: Node.Mapping
    package let path: String
    package let line: Int?
    private var known: [String] = []

    package init(document: YAMLDocument, mapping: Node.Mapping, path: String, line: Int?) {
        self.document = document
        self.mapping = mapping
        self.path = path
        self.line = line
    }

    package func keyPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    package func node(_ key: String) -> Node? {
        known.append(key)
        return mapping[key]
    }

    package func lineOf(_ key: String) -> Int? { mapping[key]?.mark?.line ?? line }

    package func error(_ key: String, _ message: String) -> ConfigurationError {
        ConfigurationError(file: document.file, line: lineOf(key), keyPath: keyPath(key), message: message)
    }

    package func string(_ key: String, required: Bool = false) throws -> String? {
        guard let node = node(key), node.null == nil else {
            if required { throw ConfigurationError(file: document.file, line: line, keyPath: keyPath(key), message: "is required but missing.") }
            return nil
        }
        guard let scalar = node.scalar else { throw error(key, "expected a text value.") }
        if scalar.style == .plain, node.bool != nil {
            throw error(key, "'\(scalar.string)' reads as a Boolean in YAML; quote it (\"\(scalar.string)\") if text is meant.")
        }
        return scalar.string
    }

    package func requiredString(_ key: String) throws -> String {
        let value = try string(key, required: true)!
        if value.trimmingCharacters(in: .whitespaces).isEmpty { throw error(key, "must not be empty.") }
        return value
    }

    package func int(_ key: String, default value: Int, range: ClosedRange<Int>) throws -> Int {
        guard let node = node(key), node.null == nil else { return value }
        guard node.scalar != nil, let number = node.int else { throw error(key, "expected a whole number from \(range.lowerBound) to \(range.upperBound).") }
        guard range.contains(number) else {
            throw error(key, "\(number) is out of range; use a whole number from \(range.lowerBound) to \(range.upperBound).")
        }
        return number
    }

    package func double(_ key: String, default value: Double, range: ClosedRange<Double>) throws -> Double {
        guard let node = node(key), node.null == nil else { return value }
        guard node.scalar != nil, let number = node.float ?? node.int.map(Double.init) else {
            throw error(key, "expected a number from \(range.lowerBound) to \(range.upperBound).")
        }
        guard range.contains(number) else {
            throw error(key, "\(number) is out of range; use a number from \(range.lowerBound) to \(range.upperBound).")
        }
        return number
    }

    package func bool(_ key: String, default value: Bool) throws -> Bool {
        guard let node = node(key), node.null == nil else { return value }
        guard let flag = node.bool else { throw error(key, "expected true or false.") }
        return flag
    }

    package func submapping(_ key: String) throws -> YAMLMapping? {
        guard let node = node(key), node.null == nil else { return nil }
        return try document.mapping(node, path: keyPath(key))
    }

    package func sequence(_ key: String) throws -> [(Node, String)]? {
        guard let node = node(key), node.null == nil else { return nil }
        guard let sequence = node.sequence else { throw error(key, "expected a list.") }
        return sequence.enumerated().map { ($0.element, "\(keyPath(key))[\($0.offset)]") }
    }

    /// Rejects any key that was not read, suggesting the closest known one.
    package func rejectUnknownKeys() throws {
        for (keyNode, _) in mapping {
            let key = keyNode.string ?? "\(keyNode)"
            if !known.contains(key) {
                throw ConfigurationError(file: document.file, line: keyNode.mark?.line, keyPath: keyPath(key),
                                         message: "unknown key '\(key)'." + Suggestion.hint(for: key, in: known.sorted()))
            }
        }
    }
}
