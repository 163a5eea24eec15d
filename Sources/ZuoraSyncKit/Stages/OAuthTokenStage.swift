import Foundation

/// `result.json` of oauth-token: when the token expires and what it may do; never the token.
public struct TokenSummary: Sendable, Codable {
    public var tokenType: String
    public var scope: String?
    public var expiresAt: Date
    public var reusedFromCache: Bool
}

/// Gets (or reuses) the customer's client-credentials token. Wrong credentials fail the customer
/// at once, not retryable.
public struct OAuthTokenStage: PipelineStage {
    public init() {}

    public func run(_ context: StageContext) async throws -> StageReport {
        let client = try context.services.client()
        let token = try await client.tokens.token()
        let cached = await client.tokens.lastTokenWasCached
        try context.writeResult(TokenSummary(tokenType: token.tokenType, scope: token.scope, expiresAt: token.expiresAt,
                                             reusedFromCache: cached))
        return StageReport(counts: ["token_requests": await client.tokens.requestCount])
    }
}
