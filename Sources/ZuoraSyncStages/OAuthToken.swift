import Foundation
import ZuoraSyncCore
import ZuoraSyncEngine

/// Gets (or reuses) the customer's client-credentials token. Wrong credentials fail the customer
/// at once, not retryable.
public struct OAuthToken: StageKind {
    public static let name = "oauth-token"
    public static var inputs: [any StageKind.Type] { [ValidateCredentials.self] }

    /// `result.json`: when the token expires and what it may do; never the token.
    public struct Result: Sendable, Codable {
        public var tokenType: String
        public var scope: String?
        public var expiresAt: Date
        public var reusedFromCache: Bool
        /// Token requests sent by this stage (0 when the shared cache had one).
        public var tokenRequests: Int?
    }

    public init() {}

    public func run(_ context: StageContext, settings: NoSettings) async throws -> StageOutput<Result> {
        let client = try context.services.client()
        let token = try await client.tokens.token()
        return StageOutput(Result(tokenType: token.tokenType, scope: token.scope, expiresAt: token.expiresAt,
                                  reusedFromCache: await client.tokens.lastTokenWasCached,
                                  tokenRequests: await client.tokens.requestCount))
    }

    public static func counts(of result: Result) -> [String: Int] { ["token_requests": result.tokenRequests ?? 0] }
}
