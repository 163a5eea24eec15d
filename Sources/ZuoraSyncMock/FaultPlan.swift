import Foundation
import ZuoraSyncCore
import ZuoraSyncHTTP

/// Faults the mock Zuora injects, parsed from a spec such as `429=2:export@3x2,503:list@1,revoke@10`.
///
/// A rule is `KIND[=VALUE][:ENDPOINT][@NTH][xTIMES]`:
/// - KIND: `429` (VALUE = Retry-After seconds, default 1), `500`/`502`/`503`/`504`, `stall` (VALUE = ms
///   to hold the response, default 60000), `slow` (VALUE = ms of extra latency), `drop` (close without
///   answering), `revoke` (invalidate every token, then answer normally), `badjson` (invalid JSON body),
///   `truncate` (cut the body in half).
///   Hostile answers (for the hostile-upstream suite): `echo` (VALUE = status, default 403: the body
///   echoes the request's Authorization header and body), `hugeexpiry` / `negexpiry` (expires_in
///   9.2e15 / -5), `crlftoken` (an access_token with CR/LF), `notoken` (no access_token), `html`
///   (200 with an HTML page), `dataobject` (`data` is an object), `badids` (string, negative, huge,
///   fractional and `../` ids; names with NUL, newlines and `../`), `otherhost` (`next_page` to
///   another host), `big` (VALUE = MB: the body is padded to that size), `deep` (JSON nested
///   100,000 deep), `redirect` (302 to another host), `badretry` (429 with `Retry-After: -5`).
/// - ENDPOINT: `token`, `list`, `export` or `any` (default).
/// - NTH: the 1-based request number on that endpoint where the fault starts (default 1).
/// - TIMES: how many consecutive requests it hits (default 1, `*` for all).
public struct FaultPlan: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case status(Int, retryAfter: Int?)
        case stall(milliseconds: Int)
        case slow(milliseconds: Int)
        case drop, revoke, badJSON, truncate
        case echo(status: Int)
        case hugeExpiry, negativeExpiry, crlfToken, noToken, html, dataObject, badIDs, otherHost, deep, redirect, badRetryAfter
        case big(megabytes: Int)
    }
    public enum Endpoint: String, Sendable, Equatable { case token, list, export, any }

    public struct Rule: Sendable, Equatable {
        public var kind: Kind
        public var endpoint: Endpoint
        public var start: Int
        public var times: Int?

        func applies(to endpoint: Endpoint, number: Int) -> Bool {
            guard self.endpoint == .any || self.endpoint == endpoint, number >= start else { return false }
            guard let times else { return true }
            return number < start + times
        }
    }

    public var rules: [Rule]

    public init(rules: [Rule] = []) { self.rules = rules }

    public struct ParseError: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    public init(spec: String) throws {
        rules = try spec.split(separator: ",").map { try Self.parseRule(String($0).trimmingCharacters(in: .whitespaces)) }
    }

    private static let grammar = try! NSRegularExpression(
        pattern: "^([a-z0-9]+)(?:=([0-9]+))?(?::([a-z]+))?(?:@([0-9]+))?(?:x([0-9]+|\\*))?$")

    private static func parseRule(_ text: String) throws -> Rule {
        let range = NSRange(text.startIndex..., in: text)
        guard let match = grammar.firstMatch(in: text, range: range) else {
            throw ParseError(description: "fault '\(text)' is not KIND[=VALUE][:ENDPOINT][@NTH][xTIMES]")
        }
        func group(_ index: Int) -> Substring? {
            Range(match.range(at: index), in: text).map { text[$0] }
        }
        let kindText = String(group(1)!)
        let valueText = group(2)
        let endpointText = group(3)
        let nthText = group(4)
        let timesText = group(5)
        let value = try valueText.map { v -> Int in
            guard let number = Int(v), number >= 0 else { throw ParseError(description: "fault '\(text)': '\(v)' is not a number") }
            return number
        }
        let kind: Kind
        switch kindText {
        case "429": kind = .status(429, retryAfter: value ?? 1)
        case "500", "502", "503", "504": kind = .status(Int(kindText)!, retryAfter: value)
        case "stall": kind = .stall(milliseconds: value ?? 60_000)
        case "slow": kind = .slow(milliseconds: value ?? 500)
        case "drop": kind = .drop
        case "revoke": kind = .revoke
        case "badjson": kind = .badJSON
        case "truncate": kind = .truncate
        case "echo": kind = .echo(status: value ?? 403)
        case "hugeexpiry": kind = .hugeExpiry
        case "negexpiry": kind = .negativeExpiry
        case "crlftoken": kind = .crlfToken
        case "notoken": kind = .noToken
        case "html": kind = .html
        case "dataobject": kind = .dataObject
        case "badids": kind = .badIDs
        case "otherhost": kind = .otherHost
        case "big": kind = .big(megabytes: value ?? 60)
        case "deep": kind = .deep
        case "redirect": kind = .redirect
        case "badretry": kind = .badRetryAfter
        default:
            throw ParseError(description: "fault '\(text)': unknown kind '\(kindText)' (429, 500, 502, 503, 504, stall, slow, drop, revoke, badjson, truncate, echo, hugeexpiry, negexpiry, crlftoken, notoken, html, dataobject, badids, otherhost, big, deep, redirect, badretry)")
        }
        guard let endpoint = Endpoint(rawValue: endpointText.map(String.init) ?? "any") else {
            throw ParseError(description: "fault '\(text)': unknown endpoint (token, list, export, any)")
        }
        let start = try nthText.map { n -> Int in
            guard let number = Int(n), number >= 1 else { throw ParseError(description: "fault '\(text)': @\(n) must be 1 or more") }
            return number
        } ?? 1
        let times: Int?
        switch timesText {
        case nil: times = 1
        case "*": times = nil
        case let t?:
            guard let number = Int(t), number >= 1 else { throw ParseError(description: "fault '\(text)': x\(t) must be 1 or more, or *") }
            times = number
        }
        return Rule(kind: kind, endpoint: endpoint, start: start, times: times)
    }
}
