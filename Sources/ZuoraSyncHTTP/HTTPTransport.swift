import Foundation
import ZuoraSyncCore

/// One HTTP request as the Zuora client builds it.
public struct HTTPRequest: Sendable {
    public enum Method: String, Sendable { case get = "GET", post = "POST" }

    public var method: Method
    public var url: URL
    /// Header fields in the order they are sent.
    public var headers: [(name: String, value: String)]
    public var body: Data?
    /// The most body bytes (after decompression) the response may have; larger ones fail with
    /// `responseTooLarge` instead of filling memory.
    public var maxResponseBytes: Int = 64 * 1_048_576

    public init(method: Method, url: URL, headers: [(name: String, value: String)] = [], body: Data? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }

    /// The value of a header, case-insensitively.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }
}

/// One HTTP response; header names are stored lower-cased.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [String: String]
    public var body: Data

    public init(status: Int, headers: [String: String] = [:], body: Data = Data()) {
        self.status = status
        self.headers = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { _, last in last })
        self.body = body
    }

    public func header(_ name: String) -> String? { headers[name.lowercased()] }
}

/// The seam every network call goes through. `CurlTransport` talks to real servers,
/// `FixtureTransport` serves fixture tenants in process; tests wrap either to inject faults.
public protocol HTTPTransport: Sendable {
    /// Sends the request and returns the response, whatever its status. Throws
    /// `HTTPTransportError` when no response arrived.
    func send(_ request: HTTPRequest) async throws -> HTTPResponse
}

/// A failure below HTTP: nothing (complete) came back.
public struct HTTPTransportError: Error, CustomStringConvertible, Sendable, Equatable, RetryClassifiable {
    public enum Kind: String, Sendable, Equatable {
        case timeout, connectionRefused, connectionReset, dnsFailure, stalled, tls, invalidRequest, responseTooLarge, other
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// Timeouts, refused/reset connections, DNS failures and stalled bodies are worth another try.
    public var isRetryable: Bool {
        switch kind {
        case .timeout, .connectionRefused, .connectionReset, .dnsFailure, .stalled: return true
        case .tls, .invalidRequest, .responseTooLarge, .other: return false
        }
    }

    public var description: String { "\(kind.rawValue): \(message)" }
}
