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
            guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                throw SecretError(message: "cannot read the secret file \(path); check that it exists and is readable.")
            }
            let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !trimmed.isEmpty else { throw SecretError(message: "the secret file \(path) is empty.") }
            return trimmed
        case .inline(let value):
            return value
        }
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

    public static func isLoopback(_ url: URL) -> Bool {
        guard let host = url.host?.lowercased() else { return false }
        return host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
    }

    /// Returns a reason the URL is refused, or nil when it is fine.
    public static func problem(with url: URL) -> String? {
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
