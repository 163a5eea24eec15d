import CCurl
import Foundation
import GRDB

/// `zuora-sync --version`: this tool's version and the libcurl and SQLite it runs with.
enum VersionInfo {
    /// The tool's version; raised with each release.
    static let version = "0.10.0"

    /// The libcurl in use, as libcurl reports it (`libcurl/7.88.1 OpenSSL/3.0.15 zlib/1.2.13 ...`).
    static var libcurl: String { String(cString: curl_version()) }

    /// The SQLite in use, as SQLite reports it.
    static var sqlite: String {
        (try? DatabaseQueue().read { db in try String.fetchOne(db, sql: "SELECT sqlite_version()") }) ?? nil ?? "unknown"
    }

    /// What `--version` prints.
    static var text: String {
        "zuora-sync \(version)\n\(libcurl)\nSQLite \(sqlite)\n"
    }
}
