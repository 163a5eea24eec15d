import CPostgres
import Foundation
import ZuoraSyncCore

/// One libpq connection. Statements are prepared once per connection (named by their SQL) and
/// run with bound text parameters, never interpolated. Not thread-safe: `PostgresDatabase` hands
/// a connection to one caller at a time.
final class PostgresConnection {
    private let handle: OpaquePointer
    private var prepared: [String: String] = [:]
    let location: PostgresLocation
    private let secrets: [String]

    init(location: PostgresLocation, environment: [String: String]) throws {
        self.location = location
        // Defaults before the URL (its own settings win), UTF-8 after it (the store's text is UTF-8).
        var keywords = ["application_name", "connect_timeout", "dbname", "client_encoding"]
        var values = ["zuora-sync pid \(getpid()) on \(ProcessEnvironment.hostName())", "10", location.url, "UTF8"]
        var secrets: [String] = []
        if let name = location.passwordEnv {
            guard let password = environment[name], !password.isEmpty else {
                throw StoreError("the PostgreSQL password variable \(name) (password_env) is not set; export it before running zuora-sync", isRetryable: false)
            }
            keywords.append("password")
            values.append(password)
            secrets.append(password)
        }
        if let password = environment["PGPASSWORD"], !password.isEmpty { secrets.append(password) }
        self.secrets = secrets
        let connection: OpaquePointer? = Self.withCStrings(keywords) { keys in
            Self.withCStrings(values) { vals in PQconnectdbParams(keys, vals, 1) }
        }
        guard let connection else { throw StoreError("cannot connect to \(location.displayURL): out of memory", isRetryable: true) }
        guard PQstatus(connection) == CONNECTION_OK else {
            let message = String(cString: PQerrorMessage(connection)).trimmingCharacters(in: .whitespacesAndNewlines)
            PQfinish(connection)
            throw StoreError("cannot connect to the PostgreSQL store \(location.displayURL): \(redact(message, secrets: secrets)). Check that the server runs and accepts connections, the URL, and the password (PGPASSWORD, ~/.pgpass or password_env).", isRetryable: true)
        }
        handle = connection
        // Timestamps read back in UTC ISO form, whatever the server's or the URL's settings.
        try script("SET TimeZone = 'UTC'; SET DateStyle = 'ISO'; SET client_min_messages = warning")
    }

    deinit { PQfinish(handle) }

    /// Whether the connection can still be used (false after the server went away).
    var isHealthy: Bool { PQstatus(handle) == CONNECTION_OK && PQtransactionStatus(handle) == PQTRANS_IDLE }

    /// Runs one or more statements with no parameters (migrations, BEGIN/COMMIT).
    func script(_ sql: String) throws {
        let result = PQexec(handle, sql)
        defer { PQclear(result) }
        try check(result, sql: sql)
    }

    /// Runs a statement with `?` placeholders bound to `arguments`; returns its rows.
    func run(_ sql: String, _ arguments: [SQLValue]) throws -> [SQLRow] {
        let name: String
        if let existing = prepared[sql] {
            name = existing
        } else {
            name = "zs\(prepared.count)"
            let result = PQprepare(handle, name, Self.numberedPlaceholders(sql), 0, nil)
            defer { PQclear(result) }
            try check(result, sql: sql)
            prepared[sql] = name
        }
        let texts: [String?] = arguments.map { value in
            switch value {
            case .null: return nil
            case .integer(let number): return String(number)
            case .real(let number): return String(number)
            // PostgreSQL text cannot hold NUL; a C string would cut the value there.
            case .text(let text): return text.replacingNUL
            }
        }
        let result = Self.withOptionalCStrings(texts) { pointers in
            PQexecPrepared(handle, name, Int32(texts.count), pointers, nil, nil, 0)
        }
        defer { PQclear(result) }
        try check(result, sql: sql)
        return Self.rows(of: result)
    }

    private func check(_ result: OpaquePointer?, sql: String) throws {
        let status = result.map(PQresultStatus) ?? PGRES_FATAL_ERROR
        guard status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK else { return }
        let state = result.flatMap { PQresultErrorField($0, Int32(UInt8(ascii: "C"))) }.map { String(cString: $0) } ?? ""
        var message = result.flatMap { PQresultErrorField($0, Int32(UInt8(ascii: "M"))) }.map { String(cString: $0) }
            ?? String(cString: PQerrorMessage(handle)).trimmingCharacters(in: .whitespacesAndNewlines)
        if message.isEmpty { message = "no reply" }
        let lost = PQstatus(handle) != CONNECTION_OK || state.hasPrefix("08") || state.hasPrefix("57P")
        // Lost connections, serialization failures, deadlocks, lock and statement timeouts, a
        // read-only server (fail-over to a standby), too many connections or out of resources.
        let retryable = lost || ["40001", "40P01", "55P03", "57014", "25006"].contains(state) || state.hasPrefix("53")
        let what = lost ? "the connection to the PostgreSQL store \(location.displayURL) was lost (\(redact(message, secrets: secrets))); the server may have restarted — try again"
            : "PostgreSQL store \(location.displayURL): \(redact(message, secrets: secrets))\(state.isEmpty ? "" : " [SQLSTATE \(state)]")"
        throw StoreError(what, isRetryable: retryable, sqlState: state, isConnectionLost: lost)
    }

    /// Rows as `SQLValue`s: integers, booleans (0/1), reals, and timestamps in the tool's ISO 8601
    /// form, so both backends read back the same values.
    private static func rows(of result: OpaquePointer?) -> [SQLRow] {
        guard let result else { return [] }
        let count = Int(PQntuples(result))
        let fields = Int(PQnfields(result))
        guard fields > 0 else { return [] }
        let columns = (0..<fields).map { String(cString: PQfname(result, Int32($0))) }
        let types = (0..<fields).map { PQftype(result, Int32($0)) }
        var rows: [SQLRow] = []
        rows.reserveCapacity(count)
        for row in 0..<count {
            var values: [SQLValue] = []
            values.reserveCapacity(fields)
            for field in 0..<fields {
                if PQgetisnull(result, Int32(row), Int32(field)) != 0 {
                    values.append(.null)
                    continue
                }
                let text = String(cString: PQgetvalue(result, Int32(row), Int32(field)))
                values.append(convert(text, type: types[field]))
            }
            rows.append(SQLRow(columns: columns, values: values))
        }
        return rows
    }

    private static func convert(_ text: String, type: Oid) -> SQLValue {
        switch type {
        case 20, 21, 23: return Int64(text).map(SQLValue.integer) ?? .text(text)
        case 16: return .integer(text == "t" ? 1 : 0)
        case 700, 701: return Double(text).map(SQLValue.real) ?? .text(text)
        case 1700: return Int64(text).map(SQLValue.integer) ?? Double(text).map(SQLValue.real) ?? .text(text)
        case 1184, 1114: return .text(isoTimestamp(text))
        default: return .text(text)
        }
    }

    /// `2026-11-29 11:22:34.12+00` (the session runs in UTC) → `2026-11-29T11:22:34.120Z`.
    static func isoTimestamp(_ text: String) -> String {
        var value = text
        if let plus = value.lastIndex(where: { $0 == "+" || $0 == "-" }), value.distance(from: plus, to: value.endIndex) <= 6,
           value[..<plus].contains(":") {
            value = String(value[..<plus])
        }
        value = value.replacingOccurrences(of: " ", with: "T")
        guard let date = Timestamp.parse(value + "Z") else { return text }
        return Timestamp.format(date)
    }

    /// `?` → `$1, $2, ...`, outside quoted strings and identifiers.
    static func numberedPlaceholders(_ sql: String) -> String {
        var output = ""
        output.reserveCapacity(sql.utf8.count + 16)
        var number = 0
        var quote: Character?
        for character in sql {
            if let open = quote {
                if character == open { quote = nil }
                output.append(character)
            } else if character == "'" || character == "\"" {
                quote = character
                output.append(character)
            } else if character == "?" {
                number += 1
                output += "$\(number)"
            } else {
                output.append(character)
            }
        }
        return output
    }

    private static func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
        let pointers = strings.map { UnsafePointer(strdup($0)) } + [nil]
        defer { for pointer in pointers { free(UnsafeMutablePointer(mutating: pointer)) } }
        return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }

    private static func withOptionalCStrings<R>(_ strings: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> R) -> R {
        let pointers: [UnsafePointer<CChar>?] = strings.map { $0.map { UnsafePointer(strdup($0)) } }
        defer { for pointer in pointers { free(UnsafeMutablePointer(mutating: pointer)) } }
        return pointers.withUnsafeBufferPointer { body($0.baseAddress) }
    }
}
