import Foundation

/// One customer (one Zuora tenant) from the customers file.
public struct CustomerConfig: Sendable, Equatable {
    /// `id`: unique slug used in paths and on the command line.
    public var id: String
    /// `name`: a person's name for the tenant (not necessarily unique).
    public var name: String
    /// `base_url`: Zuora's REST base (see README), `fixture://TENANT`, or loopback `http://` for the mock.
    public var baseURL: URL
    /// `client_id`: the OAuth client id.
    public var clientID: String
    /// Where the secret comes from; the secret itself is read only when a token is requested.
    public var secret: SecretSource
    /// `entity_ids`: optional `Zuora-Entity-Ids` header for multi-entity tenants.
    public var entityIDs: String?

    public init(id: String, name: String, baseURL: URL, clientID: String, secret: SecretSource, entityIDs: String? = nil) {
        self.id = id
        self.name = name
        self.baseURL = baseURL
        self.clientID = clientID
        self.secret = secret
        self.entityIDs = entityIDs
    }

    /// A digest of what identifies the tenant and the client (never the secret), for fingerprints.
    public var identity: String { Digest.sha256Hex("\(baseURL.absoluteString)\n\(clientID)") }

    /// Whether the base URL is served by the fixture transport or a loopback mock.
    public var isLocal: Bool { baseURL.scheme == BaseURLRules.fixtureScheme || BaseURLRules.isLoopback(baseURL) }
}

/// Where a client secret comes from. Descriptions never contain the secret.
public enum SecretSource: Sendable, Equatable, CustomStringConvertible {
    case environment(String)
    case file(String)
    case inline(String)

    public var description: String {
        switch self {
        case .environment(let name): return "environment variable \(name)"
        case .file(let path): return "file \(path)"
        case .inline: return "inline value (fixtures and loopback only)"
        }
    }

    /// Reads the secret; throws a message that says where it looked, never what it found.
    public func resolve(environment: [String: String]) throws -> String {
        switch self {
        case .environment(let name):
            guard let value = environment[name], !value.isEmpty else {
                throw SecretError(message: "the environment variable \(name) is not set or empty; export it before running.")
            }
            return value
        case .file(let path):
            return try Self.readSecretFile(path)
        case .inline(let value):
            return value
        }
    }
}

extension SecretSource {
    /// The largest secret file read (a secret is a line, not a document).
    static let maximumSecretFileBytes = 64 * 1024

    /// Reads the first line of a regular file, trimmed. Symbolic links, directories, FIFOs and
    /// devices are refused (a link to another file would send that file's content as the secret).
    static func readSecretFile(_ path: String) throws -> String {
        var info = stat()
        guard lstat(path, &info) == 0 else {
            throw SecretError(message: "cannot read the secret file \(path) (\(String(cString: strerror(errno)))); check that it exists and is readable.")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            let kind = (info.st_mode & S_IFMT) == S_IFLNK ? "a symbolic link" : (info.st_mode & S_IFMT) == S_IFDIR ? "a directory" : "not a regular file"
            throw SecretError(message: "the secret file \(path) is \(kind); point client_secret_file at a regular file holding the secret on its first line.")
        }
        guard Int(info.st_size) <= maximumSecretFileBytes else {
            throw SecretError(message: "the secret file \(path) is larger than 64 KB; it should hold the secret on its first line.")
        }
        let descriptor = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw SecretError(message: "cannot open the secret file \(path) (\(String(cString: strerror(errno)))).")
        }
        defer { close(descriptor) }
        var bytes = [UInt8](repeating: 0, count: maximumSecretFileBytes)
        let count = read(descriptor, &bytes, bytes.count)
        guard count >= 0 else { throw SecretError(message: "cannot read the secret file \(path).") }
        let text = String(decoding: bytes.prefix(count), as: UTF8.self)
        let firstLine = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }).first.map(String.init) ?? ""
        let trimmed = firstLine.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { throw SecretError(message: "the first line of the secret file \(path) is empty.") }
        return trimmed
    }
}

public struct SecretError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public var description: String { message }
}

/// The rules a base URL must follow: https, or http to loopback, or fixture://.
public enum BaseURLRules {
    /// `fixture://TENANT`: served in process by the mock's fixture transport.
    public static let fixtureScheme = "fixture"

    /// Loopback means `localhost`, an IPv4 literal in 127.0.0.0/8 or `::1` (never a name that
    /// merely starts with "127.").
    public static func isLoopback(_ url: URL) -> Bool {
        guard var host = url.host?.lowercased() else { return false }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host == "localhost" { return true }
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 {
            return UInt32(bigEndian: v4.s_addr) >> 24 == 127
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, host, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { bytes in bytes.prefix(15).allSatisfy { $0 == 0 } && bytes[15] == 1 }
        }
        return false
    }

    /// Returns a reason the URL is refused, or nil when it is fine.
    public static func problem(with url: URL) -> String? {
        if url.user != nil || url.password != nil {
            return "carries a user name or password before the host; give credentials as client_id and a secret source, never in the URL"
        }
        switch url.scheme?.lowercased() {
        case "https":
            return url.host?.isEmpty == false ? nil : "has no host"
        case "http":
            return isLoopback(url) ? nil : "uses plain http to a host that is not loopback; use https"
        case BaseURLRules.fixtureScheme:
            guard let host = url.host, SafeIdentifier.isValidCustomerID(host) else {
                return "names no valid fixture tenant (fixture://TENANT, lower-case letters, digits, '-')"
            }
            return nil
        default:
            return "must start with https:// (or http:// to loopback, or fixture://)"
        }
    }
}
