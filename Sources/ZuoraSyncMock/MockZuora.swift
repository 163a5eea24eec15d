import Foundation
import ZuoraSyncCore
import ZuoraSyncHTTP
import Synchronization

/// A request as the mock sees it, whichever way it arrived (in process or over HTTP).
public struct MockRequest: Sendable {
    public var method: String
    /// The fixture tenant (first path segment over HTTP, the host of `fixture://TENANT`).
    public var tenant: String
    /// The path after the tenant, e.g. `/workflows/48/export`.
    public var path: String
    public var query: [String: String]
    public var headers: [String: String]
    public var body: Data
    /// The base URL the client used for this tenant, to build `next_page`.
    public var baseURL: String

    public init(method: String, tenant: String, path: String, query: [String: String], headers: [String: String], body: Data, baseURL: String) {
        self.method = method
        self.tenant = tenant
        self.path = path
        self.query = query
        self.headers = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { _, last in last })
        self.body = body
        self.baseURL = baseURL
    }
}

/// What the mock answers; `drop` and `stall` are faults the HTTP server acts out.
public enum MockReply: Sendable {
    case response(HTTPResponse)
    case drop
    case stall(milliseconds: Int, then: HTTPResponse)
}

/// Request counts the mock keeps, served at `GET /__stats`.
public struct MockStats: Sendable, Codable, Equatable {
    public var requests: [String: Int] = [:]
    public var maxInFlight = 0
    public var maxInFlightByTenant: [String: Int] = [:]
    public var tokensIssued = 0
    public var faultsInjected = 0

    public func count(_ tenant: String, _ endpoint: FaultPlan.Endpoint) -> Int { requests["\(tenant) \(endpoint.rawValue)"] ?? 0 }
}

/// Zuora's token, list and export endpoints over a fixture directory, with real token checking and
/// expiry, Zuora's shapes and limits, RateLimit headers, and injected faults. Fixture files are
/// read on every request, so a test can change a tenant between two syncs.
public final class MockZuora: Sendable {
    public let fixtures: URL
    public let clock: any WallClock
    private let faults: FaultPlan
    private let latencyMilliseconds: Int
    private let state = Mutex(State())

    struct State {
        var tokens: [String: (tenant: String, expiresAt: Date)] = [:]
        var stats = MockStats()
        var inFlight = 0
        var inFlightByTenant: [String: Int] = [:]
        var endpointNumbers: [FaultPlan.Endpoint: Int] = [:]
        var listings: [String: (stamp: String, listing: FixtureTenant.Listing)] = [:]
        var tenants: [String: (stamp: String, tenant: FixtureTenant)] = [:]
    }

    /// The tenant's listing, read once per version of `workflows.json` (inode, size, mtime).
    private func listing(_ tenant: FixtureTenant, name: String) throws -> FixtureTenant.Listing {
        let stamp = try Self.stamp(tenant.directory.path + "/workflows.json")
        if let cached = state.withLock({ $0.listings[name] }), cached.stamp == stamp { return cached.listing }
        let listing = try tenant.listing()
        state.withLock { $0.listings[name] = (stamp, listing) }
        return listing
    }

    /// Identifies one version of a fixture file (inode, size, modification time in ns), read with
    /// `stat`: `FileManager.attributesOfItem` also looks up the owner's name in /etc/passwd.
    static func stamp(_ path: String) throws -> String {
        var info = stat()
        guard stat(path, &info) == 0 else { throw FileError(path: path, message: "cannot read the fixture file (errno \(errno))") }
        return "\(info.st_ino)-\(info.st_size)-\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)"
    }

    /// The tenant's settings, read again only when `tenant.json` changes.
    private func tenant(_ name: String) throws -> FixtureTenant {
        let directory = fixtures.appendingPathComponent(name)
        let stamp = try Self.stamp(directory.path + "/tenant.json")
        if let cached = state.withLock({ $0.tenants[name] }), cached.stamp == stamp { return cached.tenant }
        let tenant = try FixtureTenant.load(directory)
        state.withLock { $0.tenants[name] = (stamp, tenant) }
        return tenant
    }

    /// - Parameter latencyMilliseconds: added to every request, inside the in-flight window the stats count.
    public init(fixtures: URL, clock: any WallClock = SystemClock(), faults: FaultPlan = FaultPlan(), latencyMilliseconds: Int = 0) {
        self.fixtures = fixtures
        self.clock = clock
        self.faults = faults
        self.latencyMilliseconds = latencyMilliseconds
    }

    public var stats: MockStats { state.withLock { $0.stats } }

    /// Answers one request.
    public func handle(_ request: MockRequest) async -> MockReply {
        let endpoint = Self.endpoint(of: request)
        let activeFaults = state.withLock { state -> [FaultPlan.Kind] in
            state.stats.requests["\(request.tenant) \(endpoint.rawValue)", default: 0] += 1
            state.endpointNumbers[endpoint, default: 0] += 1
            state.inFlight += 1
            state.inFlightByTenant[request.tenant, default: 0] += 1
            state.stats.maxInFlight = max(state.stats.maxInFlight, state.inFlight)
            state.stats.maxInFlightByTenant[request.tenant] = max(state.stats.maxInFlightByTenant[request.tenant] ?? 0,
                                                                  state.inFlightByTenant[request.tenant]!)
            let number = state.endpointNumbers[endpoint]!
            let hits = faults.rules.filter { $0.applies(to: endpoint, number: number) }.map(\.kind)
            state.stats.faultsInjected += hits.isEmpty ? 0 : 1
            return hits
        }
        defer {
            state.withLock { state in
                state.inFlight -= 1
                state.inFlightByTenant[request.tenant, default: 1] -= 1
            }
        }
        if latencyMilliseconds > 0 { try? await clock.sleep(seconds: Double(latencyMilliseconds) / 1000) }
        for fault in activeFaults {
            switch fault {
            case .slow(let ms): try? await clock.sleep(seconds: Double(ms) / 1000)
            case .revoke: state.withLock { $0.tokens.removeAll() }
            default: break
            }
        }
        for fault in activeFaults {
            switch fault {
            case .status(let status, let retryAfter):
                var headers = ["Content-Type": "application/json"]
                if let retryAfter { headers["Retry-After"] = String(retryAfter) }
                return .response(Self.error(status, code: status == 429 ? "too_many_requests" : "server_error",
                                            title: HTTPStatusText.reason(status), headers: headers))
            case .drop:
                return .drop
            case .stall(let ms):
                return .stall(milliseconds: ms, then: Self.error(504, code: "timeout", title: "stalled"))
            case .echo(let status):
                // A careless gateway that echoes what it was sent, credentials included.
                let echoed = "request had Authorization: \(request.headers["authorization"] ?? "-") and body: \(String(decoding: request.body, as: UTF8.self))"
                return .response(Self.json(status, .object(["message": .string(echoed)])))
            case .redirect:
                return .response(HTTPResponse(status: 302, headers: ["Location": "https://elsewhere.example/workflows"], body: Data()))
            case .badRetryAfter:
                return .response(Self.error(429, code: "too_many_requests", title: "slow down", headers: ["Retry-After": "-5"]))
            case .html:
                return .response(HTTPResponse(status: 200, headers: ["Content-Type": "text/html"],
                                              body: Data("<html><body><h1>Maintenance</h1></body></html>".utf8)))
            case .deep:
                return .response(HTTPResponse(status: 200, headers: Self.standardHeaders(),
                                              body: Data((String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)).utf8)))
            default:
                break
            }
        }
        var response = route(request, endpoint: endpoint)
        for fault in activeFaults {
            switch fault {
            case .badJSON where response.status == 200:
                response.body = Data("{\"data\": [ this is not json".utf8)
            case .truncate where response.status == 200:
                response.body = response.body.prefix(response.body.count / 2)
            case .big(let megabytes) where response.status == 200:
                // Valid JSON, padded with whitespace to the size asked for.
                response.body += Data(repeating: UInt8(ascii: " "), count: max(0, megabytes * 1_048_576 - response.body.count))
            case .hugeExpiry, .negativeExpiry, .crlfToken, .noToken, .dataObject, .badIDs, .otherHost:
                response.body = Self.rewrite(response.body, for: fault)
            default: break
            }
        }
        return .response(response)
    }

    /// Applies a hostile rewrite to a successful JSON body.
    static func rewrite(_ body: Data, for fault: FaultPlan.Kind) -> Data {
        guard case .object(var object)? = try? JSONValue.parse(body) else { return body }
        switch fault {
        case .hugeExpiry: object["expires_in"] = .double(9.2e15)
        case .negativeExpiry: object["expires_in"] = .int(-5)
        case .crlfToken: object["access_token"] = .string("abc\r\nX-Injected: yes")
        case .noToken: object["access_token"] = nil
        case .dataObject: if let data = object["data"] { object["data"] = .object(["items": data]) }
        case .otherHost:
            if case .object(var pagination)? = object["pagination"] {
                pagination["next_page"] = .string("https://attacker.example/workflows?page=2")
                object["pagination"] = .object(pagination)
            }
        case .badIDs:
            let hostile: [JSONValue] = [
                .object(["id": .string("12"), "name": .string("string id")]),
                .object(["id": .int(-4), "name": .string("negative id")]),
                .object(["id": .double(1e300), "name": .string("huge id")]),
                .object(["id": .double(7.5), "name": .string("fractional id")]),
                .object(["id": .string("../../etc"), "name": .string("../../etc/passwd")]),
                .object(["id": .int(990_001), "name": .string("nul\u{0}and\nnewline ../name")]),
            ]
            object["data"] = .array((object["data"]?.arrayValue ?? []) + hostile)
        default: break
        }
        return JSONValue.object(object).canonicalData()
    }

    static func endpoint(of request: MockRequest) -> FaultPlan.Endpoint {
        if request.path == "/oauth/token" { return .token }
        if request.path == "/workflows" { return .list }
        return request.path.hasPrefix("/workflows/") ? .export : .any
    }

    private func route(_ request: MockRequest, endpoint: FaultPlan.Endpoint) -> HTTPResponse {
        guard SafeIdentifier.isValidCustomerID(request.tenant),
              let tenant = try? tenant(request.tenant) else {
            return Self.error(404, code: "not_found", title: "no fixture tenant '\(request.tenant)'")
        }
        switch (request.method, endpoint) {
        case ("POST", .token):
            return issueToken(request, tenant: tenant)
        case ("GET", .list), ("GET", .export):
            guard let header = request.headers["authorization"], header.hasPrefix("Bearer "),
                  isValid(token: String(header.dropFirst(7)), tenant: request.tenant) else {
                return Self.error(401, code: "unauthorized", title: "Invalid or expired access token")
            }
            return endpoint == .list ? list(request, tenant: tenant) : export(request, tenant: tenant)
        default:
            return Self.error(405, code: "method_not_allowed", title: "\(request.method) \(request.path) is not served by the mock")
        }
    }

    private func issueToken(_ request: MockRequest, tenant: FixtureTenant) -> HTTPResponse {
        let form = FormEncoding.decode(String(decoding: request.body, as: UTF8.self))
        guard form["grant_type"] == "client_credentials" else {
            return Self.json(400, .object(["error": .string("unsupported_grant_type")]))
        }
        guard form["client_id"] == tenant.clientID, form["client_secret"] == tenant.clientSecret else {
            return Self.json(401, .object(["error": .string("invalid_client"), "error_description": .string("Bad client credentials")]))
        }
        let token = "mock-" + RandomSource.system.hex(digits: 32)
        let expiresAt = clock.now().addingTimeInterval(Double(tenant.tokenTTL))
        state.withLock {
            $0.tokens[token] = (request.tenant, expiresAt)
            $0.stats.tokensIssued += 1
        }
        return Self.json(200, .object([
            "access_token": .string(token), "token_type": .string("bearer"), "expires_in": .int(Int64(tenant.tokenTTL)),
            "scope": .string("entity.read service.workflow.read"), "jti": .string(String(token.suffix(12))),
        ]))
    }

    private func isValid(token: String, tenant: String) -> Bool {
        let now = clock.now()
        return state.withLock { state in
            guard let entry = state.tokens[token], entry.tenant == tenant else { return false }
            return entry.expiresAt > now
        }
    }

    private func list(_ request: MockRequest, tenant: FixtureTenant) -> HTTPResponse {
        let page = Int(request.query["page"] ?? "1") ?? 0
        let length = Int(request.query["page_length"] ?? "20") ?? 0
        guard page >= 1, (1...50).contains(length) else {
            return Self.error(400, code: "invalid", title: "page must be 1 or more and page_length from 1 to 50")
        }
        guard let listing = try? listing(tenant, name: request.tenant) else {
            return Self.error(500, code: "fixture", title: "workflows.json of tenant \(request.tenant) is unreadable")
        }
        let count = listing.ranges.count
        let (offset, overflow) = (page - 1).multipliedReportingOverflow(by: length)
        let start = overflow ? count : min(count, offset)
        let end = min(count, start + length)
        guard let items = try? listing.items(start..<end) else {
            return Self.error(500, code: "fixture", title: "workflows.json of tenant \(request.tenant) is unreadable")
        }
        var pagination: [String: JSONValue] = ["page": .int(Int64(page)), "page_length": .int(Int64(length))]
        if end < count {
            pagination["next_page"] = .string("\(request.baseURL)/workflows?page=\(page + 1)&page_length=\(length)")
        }
        return Self.json(200, .object(["data": .array(items), "pagination": .object(pagination)]))
    }

    private func export(_ request: MockRequest, tenant: FixtureTenant) -> HTTPResponse {
        let parts = request.path.split(separator: "/")
        guard parts.count == 3, parts[2] == "export", let id = Int64(parts[1]), id > 0 else {
            return Self.error(404, code: "not_found", title: "Not found")
        }
        guard let ids = try? listing(tenant, name: request.tenant).ids(), ids.contains(id),
              let body = tenant.exportData(id: id) else {
            return Self.error(404, code: "invalid", title: "Workflow version is not found")
        }
        return HTTPResponse(status: 200, headers: Self.standardHeaders(), body: body)
    }

    static func standardHeaders() -> [String: String] {
        ["Content-Type": "application/json", "RateLimit-Limit": "2500", "RateLimit-Remaining": "2499", "RateLimit-Reset": "60",
         "Zuora-Request-Id": RandomSource.system.hex(digits: 32)]
    }

    static func json(_ status: Int, _ value: JSONValue) -> HTTPResponse {
        HTTPResponse(status: status, headers: standardHeaders(), body: value.canonicalData())
    }

    static func error(_ status: Int, code: String, title: String, headers: [String: String] = [:]) -> HTTPResponse {
        var response = json(status, .object(["errors": .array([.object([
            "status": .int(Int64(status)), "code": .string(code), "title": .string(title),
        ])])]))
        for (name, value) in headers { response.headers[name.lowercased()] = value }
        return response
    }
}
