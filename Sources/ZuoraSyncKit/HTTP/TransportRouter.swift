import Foundation

/// Picks the transport for a base URL: `fixture://` goes to the in-process fixture tenants,
/// `https://` and loopback `http://` to the network transport.
public struct TransportRouter: HTTPTransport {
    public let network: any HTTPTransport
    public let fixtures: (any HTTPTransport)?

    public init(network: any HTTPTransport, fixtures: (any HTTPTransport)?) {
        self.network = network
        self.fixtures = fixtures
    }

    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        if request.url.scheme == FixtureTransport.scheme {
            guard let fixtures else {
                throw HTTPTransportError(.invalidRequest, "fixture:// URLs need a fixtures directory (--fixtures DIR)")
            }
            return try await fixtures.send(request)
        }
        return try await network.send(request)
    }
}
