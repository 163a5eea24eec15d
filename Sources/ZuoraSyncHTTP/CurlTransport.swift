import CCurl
import Foundation
import ZuoraSyncCore

/// HTTP over the system libcurl's multi interface. One dedicated thread owns the multi handle and
/// every easy handle and runs `curl_multi_poll`; async callers hand it requests and get `Sendable`
/// responses back through continuations, so no cooperative-pool thread ever blocks on the network.
/// The multi handle keeps connections (keep-alive, HTTP/2 multiplexing when offered), DNS and TLS
/// sessions for reuse across requests. Bodies are requested gzip-compressed and decoded by curl.
///
/// It sends only what its `isAllowed` rule lets through (the Zuora client passes its read-only
/// allowlist); it knows no API path itself.
public final class CurlTransport: HTTPTransport, Sendable {
    private let worker: CurlWorker
    private let isAllowed: @Sendable (HTTPRequest) -> Bool

    /// - Parameter isAllowed: which requests may leave.
    public init(settings: HTTPSettings = HTTPSettings(), isAllowed: @escaping @Sendable (HTTPRequest) -> Bool) {
        _ = CurlGlobal.initialized
        worker = CurlWorker(settings: settings)
        self.isAllowed = isAllowed
    }

    deinit { worker.shutdown() }

    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        guard isAllowed(request) else {
            throw HTTPTransportError(.invalidRequest, "refused \(request.method.rawValue) \(request.url.path): not allowed for this client")
        }
        guard let scheme = request.url.scheme?.lowercased(), scheme == "https" || (scheme == "http" && BaseURLRules.isLoopback(request.url)) else {
            throw HTTPTransportError(.invalidRequest, "refused \(request.url.scheme ?? "?")://: only https, or http to loopback")
        }
        let transfer = CurlTransfer(request: request)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                transfer.continuation = continuation
                worker.submit(transfer)
            }
        } onCancel: {
            worker.cancel(transfer)
        }
    }
}

enum CurlGlobal {
    /// `curl_global_init` once per process, before any thread uses curl.
    static let initialized: Bool = curl_global_init(Int(CURL_GLOBAL_ALL)) == CURLE_OK
}

/// One request in flight. Touched by the submitting task until `submit`, then only by the worker
/// thread (the continuation is resumed exactly once, by the worker).
final class CurlTransfer: @unchecked Sendable {
    let request: HTTPRequest
    var continuation: CheckedContinuation<HTTPResponse, any Error>?
    var body = Data()
    var headers: [String: String] = [:]
    var headerList: UnsafeMutablePointer<curl_slist>?
    var isCancelled = false
    /// Set when the body passed `request.maxResponseBytes`.
    var isTooLarge = false

    init(request: HTTPRequest) { self.request = request }

    func finish(_ result: Result<HTTPResponse, any Error>) {
        continuation?.resume(with: result)
        continuation = nil
    }
}

/// The thread that drives curl. Shared state between callers and the thread: `incoming`,
/// `cancelled` and `isShuttingDown`, all behind `lock`.
final class CurlWorker: @unchecked Sendable {
    private let settings: HTTPSettings
    private let lock = NSLock()
    private var incoming: [CurlTransfer] = []
    private var cancelled: [ObjectIdentifier] = []
    private var isShuttingDown = false
    private let multi: UnsafeMutableRawPointer
    private var thread: Thread?

    init(settings: HTTPSettings) {
        self.settings = settings
        multi = curl_multi_init()
        _ = zs_multi_setopt_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, 40)
        let thread = Thread { [self] in self.run() }
        thread.name = "zuora-sync.curl"
        self.thread = thread
        thread.start()
    }

    func submit(_ transfer: CurlTransfer) {
        lock.withLock { incoming.append(transfer) }
        curl_multi_wakeup(multi)
    }

    func cancel(_ transfer: CurlTransfer) {
        lock.withLock { cancelled.append(ObjectIdentifier(transfer)) }
        curl_multi_wakeup(multi)
    }

    func shutdown() {
        lock.withLock { isShuttingDown = true }
        curl_multi_wakeup(multi)
    }

    private func run() {
        var active: [UnsafeMutableRawPointer: CurlTransfer] = [:]
        while true {
            let (newTransfers, cancelledIDs, stopping) = lock.withLock { () -> ([CurlTransfer], [ObjectIdentifier], Bool) in
                defer { incoming.removeAll(); cancelled.removeAll() }
                return (incoming, cancelled, isShuttingDown)
            }
            for transfer in newTransfers {
                if let easy = makeEasy(for: transfer) {
                    active[easy] = transfer
                    curl_multi_add_handle(multi, easy)
                }
            }
            if !cancelledIDs.isEmpty {
                for (easy, transfer) in active where cancelledIDs.contains(ObjectIdentifier(transfer)) {
                    complete(easy, transfer, result: .failure(CancellationError()), active: &active)
                }
            }
            if stopping && active.isEmpty { break }
            if stopping {
                for (easy, transfer) in active { complete(easy, transfer, result: .failure(CancellationError()), active: &active) }
                break
            }
            var running: Int32 = 0
            curl_multi_perform(multi, &running)
            var remaining: Int32 = 0
            while let message = curl_multi_info_read(multi, &remaining) {
                guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle, let transfer = active[easy] else { continue }
                let code = message.pointee.data.result
                if code == CURLE_OK {
                    var status: Int = 0
                    _ = zs_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
                    complete(easy, transfer, result: .success(HTTPResponse(status: status, headers: transfer.headers, body: transfer.body)), active: &active)
                } else if transfer.isTooLarge {
                    complete(easy, transfer, result: .failure(HTTPTransportError(.responseTooLarge,
                        "the response body passed \(transfer.request.maxResponseBytes / 1_048_576) MB after decompression; stopped reading it")), active: &active)
                } else {
                    complete(easy, transfer, result: .failure(Self.error(for: code)), active: &active)
                }
            }
            curl_multi_poll(multi, nil, 0, 1000, nil)
        }
        curl_multi_cleanup(multi)
    }

    private func complete(_ easy: UnsafeMutableRawPointer, _ transfer: CurlTransfer, result: Result<HTTPResponse, any Error>,
                          active: inout [UnsafeMutableRawPointer: CurlTransfer]) {
        curl_multi_remove_handle(multi, easy)
        curl_easy_cleanup(easy)
        if let list = transfer.headerList { curl_slist_free_all(list) }
        transfer.headerList = nil
        active[easy] = nil
        Unmanaged.passUnretained(transfer).release() // balances the retain taken in makeEasy
        transfer.finish(result)
    }

    private func makeEasy(for transfer: CurlTransfer) -> UnsafeMutableRawPointer? {
        guard let easy = curl_easy_init() else {
            transfer.finish(.failure(HTTPTransportError(.other, "curl_easy_init failed")))
            return nil
        }
        let request = transfer.request
        _ = zs_easy_setopt_string(easy, CURLOPT_URL, request.url.absoluteString)
        _ = zs_easy_setopt_string(easy, CURLOPT_PROTOCOLS_STR, "http,https")
        _ = zs_easy_setopt_long(easy, CURLOPT_NOSIGNAL, 1)
        _ = zs_easy_setopt_long(easy, CURLOPT_FOLLOWLOCATION, 0)
        // Wait for a multiplexable connection only where HTTP/2 can be negotiated (https); on plain HTTP/1.1 it would serialise.
        _ = zs_easy_setopt_long(easy, CURLOPT_PIPEWAIT, request.url.scheme == "https" ? 1 : 0)
        _ = zs_easy_setopt_long(easy, CURLOPT_CONNECTTIMEOUT, settings.connectTimeout)
        _ = zs_easy_setopt_long(easy, CURLOPT_TIMEOUT, settings.requestTimeout)
        _ = zs_easy_setopt_long(easy, CURLOPT_LOW_SPEED_LIMIT, 1)
        _ = zs_easy_setopt_long(easy, CURLOPT_LOW_SPEED_TIME, settings.lowSpeedTime)
        _ = zs_easy_setopt_string(easy, CURLOPT_ACCEPT_ENCODING, "gzip")
        _ = zs_easy_setopt_string(easy, CURLOPT_USERAGENT, "zuora-sync/1")
        var list: UnsafeMutablePointer<curl_slist>?
        for header in request.headers where header.name.caseInsensitiveCompare("Accept-Encoding") != .orderedSame {
            list = curl_slist_append(list, "\(header.name): \(header.value)")
        }
        list = curl_slist_append(list, "Expect:")
        transfer.headerList = list
        _ = zs_easy_setopt_slist(easy, CURLOPT_HTTPHEADER, list)
        switch request.method {
        case .get:
            _ = zs_easy_setopt_long(easy, CURLOPT_HTTPGET, 1)
        case .post:
            let body = request.body ?? Data()
            _ = zs_easy_setopt_long(easy, CURLOPT_POST, 1)
            _ = zs_easy_setopt_long(easy, CURLOPT_POSTFIELDSIZE, body.count)
            body.withUnsafeBytes { buffer in
                // COPYPOSTFIELDS copies the bytes, so the Data may go away after this call.
                _ = zs_easy_setopt_pointer(easy, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: buffer.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!))
            }
        }
        let context = Unmanaged.passRetained(transfer).toOpaque()
        _ = zs_easy_setopt_write_callback(easy, CURLOPT_WRITEFUNCTION) { pointer, size, count, userdata in
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata!).takeUnretainedValue()
            let length = size * count
            guard transfer.body.count + length <= transfer.request.maxResponseBytes else {
                transfer.isTooLarge = true
                return 0 // curl stops the transfer with CURLE_WRITE_ERROR
            }
            if let pointer { transfer.body.append(UnsafeRawPointer(pointer).assumingMemoryBound(to: UInt8.self), count: length) }
            return length
        }
        _ = zs_easy_setopt_pointer(easy, CURLOPT_WRITEDATA, context)
        _ = zs_easy_setopt_write_callback(easy, CURLOPT_HEADERFUNCTION) { pointer, size, count, userdata in
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata!).takeUnretainedValue()
            let length = size * count
            guard let pointer else { return length }
            let line = String(decoding: UnsafeRawBufferPointer(start: pointer, count: length), as: UTF8.self)
            if line.hasPrefix("HTTP/") {
                transfer.headers.removeAll() // a new response (after 100 Continue): start over
            } else if let colon = line.firstIndex(of: ":") {
                let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
                let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
                transfer.headers[name] = value
            }
            return length
        }
        _ = zs_easy_setopt_pointer(easy, CURLOPT_HEADERDATA, context)
        return easy
    }

    static func error(for code: CURLcode) -> HTTPTransportError {
        let text = String(cString: curl_easy_strerror(code))
        switch code {
        case CURLE_OPERATION_TIMEDOUT: return HTTPTransportError(.timeout, text)
        case CURLE_OUT_OF_MEMORY:
            return HTTPTransportError(.responseTooLarge, "a response header is larger than curl accepts (100 KB), or memory ran out (\(text))")
        case CURLE_COULDNT_CONNECT: return HTTPTransportError(.connectionRefused, text)
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY: return HTTPTransportError(.dnsFailure, text)
        case CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE, CURLE_HTTP2, CURLE_HTTP2_STREAM:
            return HTTPTransportError(.connectionReset, text)
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER, CURLE_SSL_CACERT_BADFILE:
            return HTTPTransportError(.tls, text)
        default: return HTTPTransportError(.other, text)
        }
    }
}
