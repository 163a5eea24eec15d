import Foundation
import ZuoraSyncCore
import ZuoraSyncHTTP

/// A transport for tests that answers only the requests a test declared and fails loudly on any
/// other: a stage that should not call Zuora (or calls it differently) makes the test fail with
/// the request it made.
public final class ScriptedTransport: HTTPTransport, @unchecked Sendable {
    // @unchecked: `routes` and `received` are only touched under `lock`.
    private let lock = NSLock()
    private var routes: [(method: HTTPRequest.Method, pathSuffix: String, reply: @Sendable (HTTPRequest) -> HTTPResponse)] = []
    private var received: [String] = []
    private var unexpected: [String] = []

    public init() {}

    /// Answers `method` requests whose path ends with `pathSuffix` (any query).
    public func on(_ method: HTTPRequest.Method, _ pathSuffix: String, reply: @escaping @Sendable (HTTPRequest) -> HTTPResponse) {
        lock.withLock { routes.append((method, pathSuffix, reply)) }
    }

    /// Every request sent, as `METHOD path?query`.
    public var requests: [String] { lock.withLock { received } }
    /// Requests no route answered.
    public var unexpectedRequests: [String] { lock.withLock { unexpected } }

    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let line = "\(request.method.rawValue) \(request.url.path)" + (request.url.query.map { "?\($0)" } ?? "")
        let route = lock.withLock { () -> (@Sendable (HTTPRequest) -> HTTPResponse)? in
            received.append(line)
            guard let match = routes.last(where: { $0.method == request.method && request.url.path.hasSuffix($0.pathSuffix) }) else {
                unexpected.append(line)
                return nil
            }
            return match.reply
        }
        guard let route else {
            throw UnexpectedRequest(request: line)
        }
        return route(request)
    }
}

/// The failure of a request a test did not expect.
public struct UnexpectedRequest: Error, CustomStringConvertible, Sendable {
    public let request: String
    public init(request: String) { self.request = request }
    public var description: String { "unexpected request in a test: \(request) (declare it with ScriptedTransport.on, or the code under test should not send it)" }
}
