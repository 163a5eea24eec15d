import Foundation
import ZuoraSyncCore
import ZuoraSyncHTTP
import Logging

/// The original tool's connection test: resolve the secret and request a real token.
public enum ConnectionCheck {
    public struct Verdict: Sendable {
        public var isOK: Bool
        public var message: String
    }

    public static func check(_ customer: CustomerConfig, transport: any HTTPTransport, environment: [String: String],
                             clock: any WallClock = SystemClock(), logger: Logger) async -> Verdict {
        let secret: String
        do { secret = try customer.secret.resolve(environment: environment) } catch {
            return Verdict(isOK: false, message: "\(error)")
        }
        var settings = RetrySettings()
        settings.maxAttempts = 2
        let provider = TokenProvider(customer: customer, secret: secret, transport: transport, clock: clock, cache: nil,
                                     policy: RetryPolicy(settings: settings), logger: logger)
        do {
            let token = try await provider.token()
            let lifetime = Int(token.expiresAt.timeIntervalSince(clock.now()))
            return Verdict(isOK: true, message: "token granted (expires in \(lifetime) s\(token.scope.map { ", scope \($0)" } ?? ""))")
        } catch {
            return Verdict(isOK: false, message: redact("\(error)", secrets: [secret]))
        }
    }
}
