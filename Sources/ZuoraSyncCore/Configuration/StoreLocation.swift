import Foundation

/// Where the store lives: `sqlite` (the default, `store.sqlite` in the data directory, or
/// `sqlite:PATH`) or a PostgreSQL URL (`postgresql://user@host:port/db?sslmode=...`). The
/// password never comes in the URL: libpq's `PGPASSWORD`, `PGPASSFILE`/`~/.pgpass`, or the
/// environment variable named by `password_env`.
public enum StoreLocation: Sendable, Equatable, CustomStringConvertible {
    case sqlite(path: String?)
    case postgresql(PostgresLocation)

    /// Parses `--store`, `ZUORA_SYNC_STORE` or `store:`; `origin` names where the text came from.
    public static func parse(_ text: String, passwordEnv: String? = nil, origin: String) throws -> StoreLocation {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed == "sqlite" || trimmed.isEmpty { return .sqlite(path: nil) }
        if trimmed.hasPrefix("sqlite:") {
            let path = String(trimmed.dropFirst("sqlite:".count))
            return .sqlite(path: path.isEmpty ? nil : path)
        }
        if trimmed.hasPrefix("postgresql://") || trimmed.hasPrefix("postgres://") {
            return .postgresql(try PostgresLocation(url: trimmed, passwordEnv: passwordEnv, origin: origin))
        }
        throw ConfigurationError(file: origin, message: "unknown store '\(redactedURL(trimmed))'; use sqlite, sqlite:PATH or postgresql://user@host:port/database.")
    }

    public var isPostgreSQL: Bool { if case .postgresql = self { return true } else { return false } }

    public var description: String {
        switch self {
        case .sqlite(let path): return path.map { "sqlite:\($0)" } ?? "sqlite"
        case .postgresql(let location): return location.displayURL
        }
    }

    /// A URL with any userinfo password removed, for messages about a URL that was refused.
    static func redactedURL(_ text: String) -> String {
        // No query (it may carry `password=`); userinfo up to the last '@' before the path.
        let withoutQuery = String(text.prefix { $0 != "?" })
        guard let scheme = withoutQuery.range(of: "://") else { return withoutQuery }
        let authorityEnd = withoutQuery[scheme.upperBound...].firstIndex(of: "/") ?? withoutQuery.endIndex
        guard let at = withoutQuery[scheme.upperBound..<authorityEnd].lastIndex(of: "@") else { return withoutQuery }
        let user = withoutQuery[scheme.upperBound..<at].split(separator: ":", maxSplits: 1).first.map(String.init) ?? ""
        return withoutQuery[..<scheme.upperBound] + user + withoutQuery[at...]
    }
}

/// A PostgreSQL store's connection URL (never with a password) and where its password comes from.
public struct PostgresLocation: Sendable, Equatable {
    /// The URL as given, for libpq (which also reads `PGPASSWORD` and `~/.pgpass`).
    public let url: String
    /// The environment variable holding the password (`password_env:`), when not libpq's own.
    public let passwordEnv: String?
    public let host: String
    public let port: Int?
    public let database: String
    public let user: String?

    public init(url: String, passwordEnv: String?, origin: String) throws {
        guard let components = URLComponents(string: url), let host = components.host else {
            throw ConfigurationError(file: origin, message: "cannot read the PostgreSQL URL '\(StoreLocation.redactedURL(url))'; write postgresql://user@host:port/database?sslmode=prefer.")
        }
        if components.password != nil || (components.queryItems ?? []).contains(where: { $0.name.lowercased() == "password" }) {
            throw ConfigurationError(file: origin, message: "the PostgreSQL URL '\(StoreLocation.redactedURL(url))' carries a password; remove it and use PGPASSWORD, ~/.pgpass or `password_env:` instead (command lines and YAML files are read by others).")
        }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty else {
            throw ConfigurationError(file: origin, message: "the PostgreSQL URL '\(url)' names no database; add it after the port: postgresql://user@\(host):5432/zuora_sync.")
        }
        if let passwordEnv, passwordEnv.isEmpty || passwordEnv.contains("=") {
            throw ConfigurationError(file: origin, message: "`password_env` must name an environment variable, like ZUORA_SYNC_PGPASSWORD.")
        }
        self.url = url
        self.passwordEnv = passwordEnv
        self.host = host
        self.port = components.port
        self.database = database
        self.user = components.user
    }

    /// `postgresql://user@host:port/db`: what messages and `store check` show.
    public var displayURL: String {
        "postgresql://\(user.map { "\($0)@" } ?? "")\(host)\(port.map { ":\($0)" } ?? "")/\(database)"
    }
}
