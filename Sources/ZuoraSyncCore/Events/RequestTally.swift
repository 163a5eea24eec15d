import Foundation

/// What one customer's Zuora client sent, for the summary and metrics.
public struct RequestTally: Sendable, Codable, Equatable {
    public var requests = 0
    public var retries = 0
    /// Responses with status 429.
    public var rateLimited = 0
    /// Pauses Zuora asked for.
    public var waits = 0

    public init() {}

    /// Missing keys (an older `run.json`) are 0.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        requests = try c.decodeIfPresent(Int.self, forKey: .requests) ?? 0
        retries = try c.decodeIfPresent(Int.self, forKey: .retries) ?? 0
        rateLimited = try c.decodeIfPresent(Int.self, forKey: .rateLimited) ?? 0
        waits = try c.decodeIfPresent(Int.self, forKey: .waits) ?? 0
    }
}
