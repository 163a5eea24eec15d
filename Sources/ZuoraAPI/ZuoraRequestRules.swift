import Foundation
import ZuoraSyncCore
import ZuoraSyncHTTP

/// The Zuora client's allowlist: it is read-only by construction, sending only `GET` to
/// `/workflows…` paths and `POST` to `/oauth/token`.
public enum ZuoraRequestRules {
    /// Whether a request is one the sync is allowed to make.
    public static func isAllowed(_ request: HTTPRequest) -> Bool {
        let path = request.url.path
        switch request.method {
        case .get: return path.hasSuffix("/workflows") || path.contains("/workflows/")
        case .post: return path.hasSuffix("/oauth/token")
        }
    }

    /// A libcurl transport that lets only these requests through.
    public static func curlTransport(settings: HTTPSettings) -> CurlTransport {
        CurlTransport(settings: settings, isAllowed: isAllowed)
    }
}
