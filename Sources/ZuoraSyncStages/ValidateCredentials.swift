import Foundation
import ZuoraSyncCore
import ZuoraSyncEngine

/// Checks the customer's configuration (base URL rules, client id, that the secret can be read)
/// without a network call. A failure here is final: no retry can fix a missing secret.
public struct ValidateCredentials: StageKind {
    public static let name = "validate-credentials"

    /// `result.json`: what was checked, never the secret.
    public struct Result: Sendable, Codable {
        public var baseURL: String
        public var clientID: String
        public var secretSource: String
    }

    public init() {}

    public func run(_ context: StageContext, settings: NoSettings) async throws -> StageOutput<Result> {
        let customer = context.customer
        if let problem = BaseURLRules.problem(with: customer.baseURL) {
            throw StageFailure("customer '\(customer.id)': base_url \(problem)", isRetryable: false)
        }
        guard !customer.clientID.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw StageFailure("customer '\(customer.id)': client_id is empty", isRetryable: false)
        }
        let secret = try context.services.secret()
        guard !secret.isEmpty else { throw StageFailure("customer '\(customer.id)': the client secret is empty", isRetryable: false) }
        return StageOutput(Result(baseURL: customer.baseURL.absoluteString, clientID: customer.clientID,
                                  secretSource: customer.secret.description))
    }
}
