import Foundation
import Synchronization
import Testing
@testable import ZuoraAPI
@testable import ZuoraSyncCore
@testable import ZuoraSyncEngine
@testable import ZuoraSyncHTTP
@testable import ZuoraSyncJobs
@testable import ZuoraSyncMock
@testable import ZuoraSyncStages
@testable import ZuoraSyncStore
import ZuoraSyncTesting

@Suite("Values: JSON, time, cron, retry, faults")
struct SupportTests {
    @Test func canonicalJSONIsSortedIndentedAndStable() throws {
        let value = try JSONValue.parse(Data(#"{"b": [1, 2.5, "ü\n"], "a": {"z": null, "y": true}, "e": {}, "d": []}"#.utf8))
        let text = String(decoding: value.canonicalData(), as: UTF8.self)
        #expect(text == """
            {
              "a": {
                "y": true,
                "z": null
              },
              "b": [
                1,
                2.5,
                "ü\\n"
              ],
              "d": [],
              "e": {}
            }

            """)
        #expect(try JSONValue.parse(value.canonicalData()) == value)
        #expect(value.compactCanonicalString() == #"{"a":{"y":true,"z":null},"b":[1,2.5,"ü\n"],"d":[],"e":{}}"#)
    }

    /// The mock serves list pages from byte ranges of workflows.json: the ranges are exactly the
    /// items, whatever their strings hold, and a malformed list is refused.
    @Test func fixtureListItemRangesAreTheItems() throws {
        let text = #"""
             [ {"id": 1, "name": "a ] , [ \" {"}, 2 ,
              "three", {"id": 4, "tags": [1, [2, {"x": "]"}]]}, null ]
            """#
        let data = Data(text.utf8)
        let items = try FixtureTenant.itemRanges(of: data).map { try JSONValue.parse(data.subdata(in: $0)) }
        #expect(items == (try JSONValue.parse(data).arrayValue))
        #expect(try FixtureTenant.itemRanges(of: Data("[]".utf8)).isEmpty)
        #expect(try FixtureTenant.itemRanges(of: Data(#"{"data": []}"#.utf8)).isEmpty)
        for bad in [#"[{"id": 1}"#, #"[{"id": 1},]x"#, #"[{"id": 1}] x"#, #"[{"id": "1}]"#, "[,]"] {
            #expect(throws: (any Error).self, "\(bad)") { _ = try FixtureTenant.itemRanges(of: Data(bad.utf8)).map { try JSONValue.parse(Data(bad.utf8).subdata(in: $0)) } }
        }
    }

    /// The parser's word-at-a-time string scan stops at or before every quote, backslash and
    /// control character wherever it falls in a word, and never inside a run of ordinary bytes
    /// (multi-byte UTF-8 included) before one; strings with such bytes at every offset parse.
    @Test func theStringScanFindsEverySpecialByteAtEveryOffset() throws {
        let ordinary = Array("aé€z~ 0Ü".utf8)
        for special: UInt8 in [0x22, 0x5C, 0x00, 0x0A, 0x1F] {
            for position in 0..<40 {
                var bytes = (0..<48).map { ordinary[$0 % ordinary.count] }
                bytes[position] = special
                for start in [0, 1, 5, 8] where start <= position {
                    let found = bytes.withUnsafeBufferPointer { JSONParser.firstSpecialByte(in: $0, from: start) }
                    #expect(found <= position && found >= start, "special \(special) at \(position), start \(start): \(found)")
                    #expect(!bytes[start..<found].contains { $0 == 0x22 || $0 == 0x5C || $0 < 0x20 })
                }
            }
        }
        let plain = (0..<44).map { ordinary[$0 % ordinary.count] }
        #expect(plain.withUnsafeBufferPointer { JSONParser.firstSpecialByte(in: $0, from: 0) } == 40, "stops where fewer than eight remain")
        for offset in 0..<20 {
            let prefix = String(repeating: "é", count: offset)
            let text = "\(prefix)\"quoted\" \\ line\nend\u{1}"
            let parsed = try JSONValue.parse(JSONValue.array([.string(text)]).canonicalData())
            #expect(parsed == .array([.string(text)]))
        }
        #expect("a\u{0}b".containsNUL && !"plain".containsNUL && !"".containsNUL && String(repeating: "x", count: 100).appending("\u{0}").containsNUL)
    }

    /// The writer escapes exactly what JSON needs (a quote, a backslash, control characters),
    /// wherever it falls: the same bytes as escaping byte by byte, and parsed back to the text.
    @Test func theWriterEscapesEverySpecialByteAtEveryOffsetAndSortsKeysByTheirBytes() throws {
        func reference(_ text: String) -> String {
            var out: [UInt8] = [0x22]
            for byte in text.utf8 {
                switch byte {
                case 0x22: out += Array("\\\"".utf8)
                case 0x5C: out += Array("\\\\".utf8)
                case 0x0A: out += Array("\\n".utf8)
                case 0x0D: out += Array("\\r".utf8)
                case 0x09: out += Array("\\t".utf8)
                case 0x08: out += Array("\\b".utf8)
                case 0x0C: out += Array("\\f".utf8)
                case ..<0x20: out += Array(String(format: "\\u%04x", Int(byte)).utf8)
                default: out.append(byte)
                }
            }
            return String(decoding: out + [0x22], as: UTF8.self)
        }
        let ordinary = Array("aé€z~ 0Ü")
        for special in ["\"", "\\", "\u{0}", "\n", "\u{1F}", "\r\t"] {
            for position in 0..<24 {
                var characters = (0..<30).map { String(ordinary[$0 % ordinary.count]) }
                characters[position] = special
                let text = characters.joined()
                var writer = CanonicalWriter(pretty: false)
                writer.writeQuoted(text)
                #expect(String(decoding: writer.bytes, as: UTF8.self) == reference(text), "\(special.debugDescription) at \(position)")
                #expect(try JSONValue.parse(Data(writer.bytes)) == .string(text))
            }
        }
        let keys = ["b", "a", "ab", "", "é", "z", "Z", "aa", "a\u{0}", "€", "~"]
        #expect(keys.sorted(by: CanonicalWriter.precedesInUTF8) == keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
    }

    /// Strings with escapes all along (a script's `\n` every line): the ordinary bytes between two
    /// escapes are copied in runs, and the text is what Foundation's parser reads, for every gap
    /// between escapes and every kind of escape; a raw control character after an escape is refused.
    @Test func stringsWithManyEscapesParseLikeFoundation() throws {
        let escapes = [#"\n"#, #"\""#, #"\\"#, #"\/"#, #"\t"#, #"\u00e9"#, #"\ud83d\ude00"#, #"\u0000"#, #"\b\f\r"#]
        for gap in 0..<20 {
            for (offset, escape) in escapes.enumerated() {
                var literal = ""
                for line in 0..<12 {
                    literal += String(repeating: "ab€ ", count: gap / 4 + line % 3) + String("xyzé".prefix(gap % 4))
                    literal += escapes[(offset + line) % escapes.count] + escape
                }
                let document = Data(#"["\#(literal)tail"]"#.utf8)
                let foundation = try JSONSerialization.jsonObject(with: document) as? [String]
                #expect(try JSONValue.parse(document) == .array([.string(try #require(foundation?.first))]), "gap \(gap), \(escape)")
            }
        }
        #expect(throws: JSONValue.ParseError.self) { try JSONValue.parse(Data("[\"a\\nbcdefghijklmnop\u{1}q\"]".utf8)) }
        #expect(throws: JSONValue.ParseError.self) { try JSONValue.parse(Data("[\"a\\nbcdefghijklmnopq".utf8)) }
    }

    @Test func invalidJSONSaysWhy() {
        #expect(throws: JSONValue.ParseError.self) { try JSONValue.parse(Data("{\"a\": ".utf8)) }
    }

    @Test(arguments: [
        ("2019-05-31T14:52:38.171Z", "2019-05-31T14:52:38.171Z"),
        ("2019-05-31 14:52:38", "2019-05-31T14:52:38.000Z"),
        ("2019-05-31T16:52:38+02:00", "2019-05-31T14:52:38.000Z"),
        ("2019-05-31T14:52:38Z", "2019-05-31T14:52:38.000Z"),
    ])
    func timestampsNormaliseToUTC(_ input: String, _ expected: String) {
        #expect(Timestamp.normalize(input) == expected)
    }

    @Test func badTimestampsAreNil() {
        #expect(Timestamp.normalize("yesterday") == nil)
        #expect(Timestamp.normalize("2019-13-01 00:00:00") == nil)
    }

    @Test func cronFindsTheNextRun() throws {
        let hourly = try CronSchedule("0 * * * *")
        let start = Timestamp.parse("2026-11-29T05:20:00Z")!
        #expect(hourly.nextRun(after: start).map(Timestamp.format) == "2026-11-29T06:00:00.000Z")
        let everyFifteen = try CronSchedule("*/15 8-9 * * 1-5")
        #expect(everyFifteen.nextRun(after: start).map(Timestamp.format) == "2026-11-30T08:00:00.000Z") // a Monday
        #expect(hourly.latestRun(after: start, upTo: Timestamp.parse("2026-11-29T09:30:00Z")!).map(Timestamp.format) == "2026-11-29T09:00:00.000Z")
        #expect(throws: CronSchedule.ParseError.self) { try CronSchedule("* * *") }
        #expect(throws: CronSchedule.ParseError.self) { try CronSchedule("60 * * * *") }
    }

    @Test func backoffIsCappedFullJitter() {
        var settings = RetrySettings()
        settings.baseDelayMilliseconds = 500
        settings.maxDelayMilliseconds = 4000
        let top = RetryPolicy(settings: settings, random: RandomSource { UInt64.max })
        #expect(abs(top.backoff(afterAttempt: 1) - 0.5) < 0.001)
        #expect(abs(top.backoff(afterAttempt: 3) - 2.0) < 0.001)
        #expect(abs(top.backoff(afterAttempt: 10) - 4.0) < 0.001)
        #expect(RetryPolicy(settings: settings, random: RandomSource { 0 }).backoff(afterAttempt: 5) == 0)
    }

    @Test func retryAfterReadsSecondsAndHTTPDates() {
        let now = Timestamp.parse("2015-10-21T07:28:00Z")!
        #expect(RetryPolicy.retryAfterSeconds("120", now: now) == 120)
        #expect(RetryPolicy.retryAfterSeconds("Wed, 21 Oct 2015 07:28:30 GMT", now: now) == 30)
        #expect(RetryPolicy.retryAfterSeconds("soon", now: now) == nil)
    }

    @Test func faultSpecsParse() throws {
        let plan = try FaultPlan(spec: "429=2:export@3x2,503:list,stall=100:any@5x*,revoke@10")
        #expect(plan.rules.count == 4)
        #expect(plan.rules[0] == .init(kind: .status(429, retryAfter: 2), endpoint: .export, start: 3, times: 2))
        #expect(plan.rules[1] == .init(kind: .status(503, retryAfter: nil), endpoint: .list, start: 1, times: 1))
        #expect(plan.rules[2].times == nil)
        #expect(plan.rules[3] == .init(kind: .revoke, endpoint: .any, start: 10, times: 1))
        #expect(throws: FaultPlan.ParseError.self) { try FaultPlan(spec: "418:list") }
    }

    @Test func zuoraErrorBodiesOfEveryShapeAreRead() {
        #expect(ZuoraError.message(fromBody: Data(#"{"errors":[{"status":404,"code":"invalid","title":"Workflow version is not found"}]}"#.utf8), status: 404) == "Workflow version is not found [invalid]")
        #expect(ZuoraError.message(fromBody: Data(#"{"success":false,"reasons":[{"code":53100320,"message":"bad"}]}"#.utf8), status: 400) == "bad")
        #expect(ZuoraError.message(fromBody: Data(#"{"error":"invalid_client","error_description":"Bad client credentials"}"#.utf8), status: 401) == "Bad client credentials")
        #expect(ZuoraError.message(fromBody: Data(), status: 503) == "Service Unavailable")
    }

    @Test func tokenCacheRoundTripsOnlyWithTheRightSecret() {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tc-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let cache = TokenCache(dataDirectory: directory)
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let token = AccessToken(value: "tok-123", tokenType: "bearer", scope: nil, obtainedAt: now, expiresAt: now.addingTimeInterval(3599))
        let base = URL(string: "https://rest.zuora.com")!
        cache.store(token, baseURL: base, clientID: "c", secret: "s")
        #expect(cache.load(baseURL: base, clientID: "c", secret: "s", now: now) == token)
        #expect(cache.load(baseURL: base, clientID: "c", secret: "other", now: now) == nil)
        #expect(cache.load(baseURL: URL(string: "https://rest.eu.zuora.com")!, clientID: "c", secret: "s", now: now) == nil)
        // Refreshed 5 minutes (or 10 %) before expiry.
        #expect(cache.load(baseURL: base, clientID: "c", secret: "s", now: now.addingTimeInterval(3599 - 299)) == nil)
        let text = (try? String(contentsOf: cache.fileURL(baseURL: base, clientID: "c"), encoding: .utf8)) ?? ""
        #expect(!text.isEmpty && !text.contains("tok-123"))
    }
}

@Suite("Timestamps")
struct TimestampFormatTests {
    @Test(arguments: [
        (0.0, "1970-01-01T00:00:00.000Z"), (1_559_314_358.171, "2019-05-31T14:52:38.171Z"), (-1.5, "1969-12-31T23:59:58.500Z"),
        (253_402_300_799.0, "9999-12-31T23:59:59.000Z"), (-62_135_596_800.0, "0001-01-01T00:00:00.000Z"), (9.2e15, "9999-12-31T23:59:59.000Z"),
    ])
    func formatsUTCWithMillisecondsAndClampsTheYear(_ seconds: Double, _ expected: String) {
        #expect(Timestamp.format(Date(timeIntervalSince1970: seconds)) == expected)
        if seconds > -62_135_596_800 && seconds < 253_402_300_799 {
            #expect(Timestamp.parse(expected).map(Timestamp.format) == expected, "round trip")
        }
    }
}

@Suite("Blocking work")
struct BlockingWorkTests {
    struct Refused: Error, Equatable {}

    @Test func runsOutsideTheCooperativePoolAndHandsBackItsResultOrError() async throws {
        #expect(!BlockingWork.isCurrentThread)
        #expect(try await BlockingWork.run { BlockingWork.isCurrentThread ? 42 : 0 } == 42)
        await #expect(throws: Refused.self) { try await BlockingWork.run { () throws -> Int in throw Refused() } }
    }

    /// More blocked pieces of work than the pool has threads, released by a task that needs a pool
    /// thread to run: on the pool this would never finish. A watchdog thread (not the pool's)
    /// releases them after a minute, and the test fails instead of hanging.
    @Test func workBlockedOnItsThreadLeavesThePoolFree() async throws {
        let blocked = ProcessInfo.processInfo.activeProcessorCount + 2
        let started = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let releasedByTheTask = DispatchSemaphore(value: 0)
        let watchdogFired = DispatchSemaphore(value: 0)
        Thread {
            guard releasedByTheTask.wait(timeout: .now() + 60) == .timedOut else { return }
            watchdogFired.signal()
            for _ in 0..<blocked { release.signal() }
        }.start()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<blocked {
                group.addTask { try await BlockingWork.run { started.signal(); release.wait() } }
            }
            group.addTask {
                // Waits on a pool thread until every piece of work has started on its own thread.
                for _ in 0..<blocked { started.wait() }
                releasedByTheTask.signal()
                for _ in 0..<blocked { release.signal() }
            }
            try await group.waitForAll()
        }
        #expect(watchdogFired.wait(timeout: .now()) == .timedOut, "the blocked work held the pool's threads")
    }
}

@Suite("Background flush")
struct BackgroundFlushTests {
    @Test func aFlushStartsOnceEnoughWasWrittenSinceTheLastOneBegan() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("flush-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let flush = BackgroundFlush(containing: directory, threshold: 100)
        flush.wrote(60)
        #expect(flush.started == 0, "under the threshold")
        flush.wrote(60)
        #expect(flush.started == 1)
        flush.wrote(30)
        try await flush.finish()
        #expect(flush.started == 1, "30 bytes since the last flush began")
        flush.wrote(70)
        try await flush.finish()
        #expect(flush.started == 2)
    }

    /// Flushes that wait for the test: what is written during one starts the next when it ends,
    /// never a second one beside it.
    @Test func whatIsWrittenDuringAFlushStartsTheNextOneAfterIt() async throws {
        let proceed = DispatchSemaphore(value: 0)
        let running = Mutex((now: 0, most: 0))
        let flush = BackgroundFlush(threshold: 100) {
            running.withLock { $0.now += 1; $0.most = max($0.most, $0.now) }
            _ = proceed.wait(timeout: .now() + 60)   // a watchdog: a wrong flush fails the test, not hangs it
            running.withLock { $0.now -= 1 }
        }
        flush.wrote(150)
        flush.wrote(150)
        #expect(flush.started == 1, "the first flush still runs")
        proceed.signal()
        proceed.signal()
        try await flush.finish()
        #expect(flush.started == 2)
        #expect(running.withLock { $0.most } == 1)
    }

    struct FlushFailed: Error {}

    /// Linux reports a write-back error to one syncfs only: the one a background flush meets is
    /// the stage's to throw, before it commits.
    @Test func theFirstErrorABackgroundFlushMeetsIsThrownByFinish() async throws {
        let calls = Mutex(0)
        let flush = BackgroundFlush(threshold: 1) {
            let call = calls.withLock { $0 += 1; return $0 }
            if call == 1 { throw FlushFailed() }
        }
        flush.wrote(10)
        await #expect(throws: FlushFailed.self) { try await flush.finish() }
        flush.wrote(10)
        await #expect(throws: FlushFailed.self, "kept until the stage is done") { try await flush.finish() }
        #expect(calls.withLock { $0 } == 2)
    }
}

@Suite("FIFO queue")
struct FIFOQueueTests {
    /// Many more items through it than it ever holds: still in order, whatever it dropped behind.
    @Test func itemsComeOutInOrderAcrossManyCompactions() {
        var queue = FIFOQueue<Int>()
        var next = 0
        var expected = 0
        for round in 0..<500 {
            for _ in 0..<(round % 7 + 1) { queue.append(next); next += 1 }
            for _ in 0..<(round % 5 + 1) {
                guard let item = queue.popFirst() else { break }
                #expect(item == expected)
                expected += 1
            }
        }
        #expect(queue.count == next - expected)
        while let item = queue.popFirst() { #expect(item == expected); expected += 1 }
        #expect(expected == next && queue.isEmpty && queue.popFirst() == nil)
    }

    @Test func itemsAreTakenOutOrKeptByWhatTheyAre() {
        var queue = FIFOQueue<Int>()
        for item in 0..<10 { queue.append(item) }
        _ = queue.popFirst()
        #expect(queue.remove { $0 % 4 == 0 } == 4, "the oldest match still there (0 was taken)")
        #expect(queue.remove { $0 > 100 } == nil)
        queue.keep { $0 % 2 == 1 }
        var rest: [Int] = []
        while let item = queue.popFirst() { rest.append(item) }
        #expect(rest == [1, 3, 5, 7, 9])
        queue.append(1)
        queue.removeAll()
        #expect(queue.isEmpty && queue.count == 0)
    }
}
