import FlyingFox
import FlyingSocks
import Foundation
import ZuoraSyncCore
import ZuoraSyncHTTP

/// The mock Zuora over real HTTP on 127.0.0.1 (FlyingFox): tenants by path prefix
/// (`http://127.0.0.1:PORT/<tenant>/workflows`), the mock's latency and faults, and request counts
/// at `GET /__stats`.
public final class MockServer: Sendable {
    public let mock: MockZuora
    private let server: HTTPServer
    private let handler: Handler

    /// - Parameter port: 0 picks a free port (read it from `port()` once listening).
    public init(mock: MockZuora, port: UInt16 = 0) throws {
        self.mock = mock
        let address = try sockaddr_in.inet(ip4: "127.0.0.1", port: port)
        // A generous handler timeout, so that `stall` faults are acted out by the mock, not cut short here.
        server = HTTPServer(address: address, timeout: 3600, pool: NoDelaySocketPool(base: HTTPServer.defaultPool()), logger: .disabled)
        handler = Handler(mock: mock, server: server)
    }

    /// Serves until the surrounding task is cancelled.
    public func run() async throws {
        await server.appendRoute("*", to: handler)
        try await server.run()
    }

    /// Waits until the server accepts connections and returns its port.
    public func port() async throws -> UInt16 {
        try await server.waitUntilListening(timeout: 120)
        guard case .ip4(_, let port)? = await server.listeningAddress else {
            throw HTTPTransportError(.other, "the mock server has no IPv4 address")
        }
        return port
    }

    public func stop() async { await server.stop() }

    struct Handler: HTTPHandler {
        let mock: MockZuora
        let server: HTTPServer

        func handleRequest(_ request: FlyingFox.HTTPRequest) async throws -> FlyingFox.HTTPResponse {
            if request.path == "/__stats" {
                return FlyingFox.HTTPResponse(statusCode: .ok, headers: [.contentType: "application/json"],
                                              body: try CanonicalJSON.encode(mock.stats))
            }
            let segments = request.path.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: true)
            guard let tenant = segments.first else {
                return FlyingFox.HTTPResponse(statusCode: .notFound)
            }
            var port: UInt16 = 0
            if case .ip4(_, let listening)? = await server.listeningAddress { port = listening }
            var headers: [String: String] = [:]
            for (name, value) in request.headers { headers[name.rawValue] = value }
            let mockRequest = MockRequest(
                method: request.method.rawValue, tenant: String(tenant), path: "/" + (segments.count > 1 ? String(segments[1]) : ""),
                query: Dictionary(request.query.map { ($0.name, $0.value) }, uniquingKeysWith: { _, last in last }),
                headers: headers, body: try await request.bodyData, baseURL: "http://127.0.0.1:\(port)/\(tenant)")
            switch await mock.handle(mockRequest) {
            case .response(let response):
                return Self.convert(response)
            case .stall(let milliseconds, let then):
                try await mock.clock.sleep(seconds: Double(milliseconds) / 1000)
                return Self.convert(then)
            case .drop:
                // Headers and half a body, then silence: a connection that died mid-body.
                var response = Self.convert(ZuoraSyncHTTP.HTTPResponse(status: 200, headers: ["Content-Type": "application/json"],
                                                                       body: Data(#"{"data": [{"id": 1,"#.utf8)))
                response.headers[.contentLength] = "100000"
                return response
            }
        }

        static func convert(_ response: ZuoraSyncHTTP.HTTPResponse) -> FlyingFox.HTTPResponse {
            var headers: [FlyingFox.HTTPHeader: String] = [:]
            for (name, value) in response.headers { headers[FlyingFox.HTTPHeader(name)] = value }
            return FlyingFox.HTTPResponse(statusCode: HTTPStatusCode(response.status, phrase: HTTPStatusText.reason(response.status)),
                                          headers: headers, body: response.body)
        }
    }
}

/// Sets TCP_NODELAY on every socket the server waits on. Without it, a keep-alive response written
/// as headers then body waits for the client's delayed ACK: 40 ms per request on loopback, which
/// would make the mock, not the client, the bottleneck of every measurement.
struct NoDelaySocketPool<Base: AsyncSocketPool>: AsyncSocketPool {
    let base: Base

    func prepare() async throws { try await base.prepare() }
    func run() async throws { try await base.run() }

    func suspendSocket(_ socket: Socket, untilReadyFor events: Socket.Events) async throws {
        try? socket.setValue(true, for: BoolSocketOption(level: Int32(IPPROTO_TCP), name: TCP_NODELAY))
        try await base.suspendSocket(socket, untilReadyFor: events)
    }
}
