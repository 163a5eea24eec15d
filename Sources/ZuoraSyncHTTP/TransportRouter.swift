import Foundation
import ZuoraSyncCore

/// Picks the transport for a request by its URL scheme: for example `fixture://` to the in-process
/// mock and `https`/`http` to libcurl. An unknown scheme is refused.
public struct TransportRouter: HTTPTransport {
    public let network: any HTTPTransport
    public let byScheme: [String: any HTTPTransport]

    /// - Parameters:
    ///   - network: for `https` and `http`.
    ///   - byScheme: other schemes, each with its transport.
    public init(network: any HTTPTransport, byScheme: [String: any HTTPTransport] = [:]) {
        self.network = network
        self.byScheme = byScheme
    }

    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let scheme = request.url.scheme?.lowercased() ?? ""
        if scheme == "https" || scheme == "http" { return try await network.send(request) }
        guard let transport = byScheme[scheme] else {
            throw HTTPTransportError(.invalidRequest, "no transport for \(scheme):// URLs" + (scheme == BaseURLRules.fixtureScheme ? " (fixture:// needs a fixtures directory, --fixtures DIR)" : ""))
        }
        return try await transport.send(request)
    }
}
