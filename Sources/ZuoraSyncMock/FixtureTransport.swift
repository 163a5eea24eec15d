import Foundation
import ZuoraSyncCore
import ZuoraSyncHTTP

/// Serves `fixture://TENANT/...` URLs from a `MockZuora`, in process: the transport for tests,
/// benchmarks and `make demo`.
public struct FixtureTransport: HTTPTransport {
    public static let scheme = BaseURLRules.fixtureScheme
    public let mock: MockZuora

    public init(mock: MockZuora) { self.mock = mock }

    public init(fixtures: URL, clock: any WallClock = SystemClock(), faults: FaultPlan = FaultPlan()) {
        mock = MockZuora(fixtures: fixtures, clock: clock, faults: faults)
    }

    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        guard request.url.scheme == Self.scheme, let tenant = request.url.host else {
            throw HTTPTransportError(.invalidRequest, "not a fixture URL: \(request.url.absoluteString)")
        }
        let components = URLComponents(url: request.url, resolvingAgainstBaseURL: false)
        let query = Dictionary((components?.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { _, last in last })
        let mockRequest = MockRequest(
            method: request.method.rawValue, tenant: tenant, path: request.url.path, query: query,
            headers: Dictionary(request.headers.map { ($0.name, $0.value) }, uniquingKeysWith: { _, last in last }),
            body: request.body ?? Data(), baseURL: "\(Self.scheme)://\(tenant)")
        switch await mock.handle(mockRequest) {
        case .response(let response):
            guard response.body.count <= request.maxResponseBytes else {
                throw HTTPTransportError(.responseTooLarge, "the response body passed \(request.maxResponseBytes / 1_048_576) MB; stopped reading it")
            }
            return response
        case .drop:
            throw HTTPTransportError(.connectionReset, "the mock dropped the connection")
        case .stall:
            throw HTTPTransportError(.timeout, "the mock stalled the response")
        }
    }
}
