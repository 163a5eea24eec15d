import Foundation
import GRDB
import Testing
@testable import ZuoraSyncCore
@testable import ZuoraSyncEngine
@testable import ZuoraSyncMock
@testable import ZuoraSyncStore
import ZuoraSyncTesting

/// Kills real `zuora-sync` processes at numbered crash points (every file rename, every row of a
/// store transaction and its commit, every HTTP answer: see `CrashPoints`), then recovers with
/// `resume` — and, separately, with a fresh `run` — and checks that the store and the snapshot tree
/// end byte for byte as after a run that was never killed, with no temporary file left and no
/// committed download redone. `make test` runs an evenly spread subset; `make chaos`
/// (ZUORA_SYNC_CHAOS=full) runs every point.
@Suite("Crash matrix", .serialized, .timeLimit(.minutes(25)))
struct CrashMatrixTests {
    enum Scenario: String, CaseIterable, Sendable {
        /// A first sync into an empty data directory.
        case firstSync
        /// After a first sync, upstream touched one workflow, deleted one and added one.
        case incremental
    }

    enum Recovery: String, CaseIterable, Sendable { case resume, freshRun }

    static var isFull: Bool { ProcessInfo.processInfo.environment["ZUORA_SYNC_CHAOS"] == "full" }
    /// Transient faults on: every third export answers 503 once (retried), so retries are crossed too.
    static let faults = "503:export@3"

    /// A scenario's files: fixtures, customers, pipeline, and the data directory it starts from.
    final class Bench {
        let root: URL
        let fixtures: URL
        let customers: URL
        let pipeline: URL
        let start: URL

        init(_ scenario: Scenario) async throws {
            root = FileManager.default.temporaryDirectory.appendingPathComponent("crash-\(scenario.rawValue)-\(UUID().uuidString.prefix(8))")
            fixtures = root.appendingPathComponent("fixtures")
            customers = root.appendingPathComponent("customers.yaml")
            pipeline = root.appendingPathComponent("pipeline.yaml")
            start = root.appendingPathComponent("start")
            try FileManager.default.createDirectory(at: start, withIntermediateDirectories: true)
            try FixtureGenerator.writeDemo(to: fixtures)
            try """
                customers:
                  - {id: initech, base_url: "fixture://initech", client_id: initech-client, client_secret: initech-demo-secret}
                  - {id: hooli, base_url: "fixture://hooli", client_id: hooli-client, client_secret: hooli-demo-secret}
                """.write(to: customers, atomically: true, encoding: .utf8)
            let shipped = try String(contentsOfFile: TestWorkspace.pipelinePath, encoding: .utf8)
            try shipped.replacingOccurrences(of: "base_delay_ms: 500", with: "base_delay_ms: 1")
                .write(to: pipeline, atomically: true, encoding: .utf8)
            if scenario == .incremental {
                let first = try await run(["run", "--all"], data: start)
                #expect(first.exitCode == 0, "\(first.stderr)")
                try changeUpstream()
            }
        }

        deinit { try? FileManager.default.removeItem(at: root) }

        /// Touches 41 (new content), deletes 43, adds 60.
        func changeUpstream() throws {
            let tenant = fixtures.appendingPathComponent("initech")
            let listURL = tenant.appendingPathComponent("workflows.json")
            var items = try JSONValue.parse(Data(contentsOf: listURL)).arrayValue!
            items.removeAll { $0["id"]?.intValue == 43 }
            for index in items.indices where items[index]["id"]?.intValue == 41 {
                var item = items[index].objectValue!
                item["updatedAt"] = .string("2026-11-01T00:00:00.000Z")
                items[index] = .object(item)
            }
            var added = items.first { $0["id"]?.intValue == 46 }!.objectValue!
            added["id"] = .int(60)
            added["name"] = .string("Added upstream")
            items.append(.object(added))
            try AtomicFile.write(JSONValue.array(items).canonicalData(), to: listURL)
            var export = try JSONValue.parse(Data(contentsOf: tenant.appendingPathComponent("exports/41.json"))).objectValue!
            var workflow = export["workflow"]!.objectValue!
            workflow["description"] = .string("changed upstream")
            export["workflow"] = .object(workflow)
            try AtomicFile.write(JSONValue.object(export).canonicalData(), to: tenant.appendingPathComponent("exports/41.json"))
            try FileManager.default.copyItem(at: tenant.appendingPathComponent("exports/46.json"), to: tenant.appendingPathComponent("exports/60.json"))
        }

        func run(_ arguments: [String], data: URL, environment: [String: String] = [:]) async throws -> CommandResult {
            var env = ["ZUORA_SYNC_FIXTURE_FAULTS": CrashMatrixTests.faults]
            for (key, value) in environment { env[key] = value }
            let pipelineOption = arguments.first == "run" ? ["--pipeline", pipeline.path] : []
            return try await CommandLineRunner.run(arguments + pipelineOption + ["--customers", customers.path,
                                                                "--fixtures", fixtures.path, "--data-dir", data.path],
                                                   environment: env, in: root)
        }

        /// A fresh copy of the starting data directory.
        func copyOfStart(_ name: String) throws -> URL {
            let copy = root.appendingPathComponent(name)
            try FileManager.default.copyItem(at: start, to: copy)
            return copy
        }
    }

    /// What must match: the store's rows and the snapshot tree.
    struct Outcome: Equatable {
        var store: String
        var snapshots: [String: Data]

        init(_ data: URL) throws {
            let queue = try DatabaseQueue(path: data.appendingPathComponent("store.sqlite").path)
            store = try queue.read { db in
                var lines: [String] = []
                for sql in [
                    "SELECT slug, name, base_url FROM customers ORDER BY slug",
                    "SELECT c.slug, w.zuora_id, w.name, w.description, w.status, w.version, w.updated_on, w.export_sha256, s.export_sha256 AS tasks_export_sha256, length(w.export) FROM workflows w JOIN customers c ON c.id = w.customer_id LEFT JOIN task_sources s ON s.workflow_id = w.id ORDER BY c.slug, w.zuora_id",
                    "SELECT c.slug, w.zuora_id, t.zuora_task_id, t.parent_task_id, t.name, t.action_type, t.parameters FROM tasks t JOIN workflows w ON w.id = t.workflow_id JOIN customers c ON c.id = w.customer_id ORDER BY c.slug, w.zuora_id, t.zuora_task_id",
                    "SELECT c.slug, w.zuora_id, l.linkage_type, l.source_task_id, l.target_task_id FROM linkages l JOIN workflows w ON w.id = l.workflow_id JOIN customers c ON c.id = w.customer_id ORDER BY c.slug, w.zuora_id, l.linkage_type, l.source_task_id, l.target_task_id",
                ] {
                    for row in try Row.fetchAll(db, sql: sql) { lines.append(row.databaseValues.map(\.description).joined(separator: "|")) }
                }
                return lines.joined(separator: "\n")
            }
            snapshots = Self.files(under: data.appendingPathComponent("snapshots"))
        }

        static func files(under directory: URL) -> [String: Data] {
            var result: [String: Data] = [:]
            let base = directory.standardizedFileURL.path
            guard let enumerator = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil) else { return [:] }
            for case let url as URL in enumerator {
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue {
                    result[String(url.standardizedFileURL.path.dropFirst(base.count + 1))] = try? Data(contentsOf: url)
                }
            }
            return result
        }
    }

    static func temporaryFiles(under directory: URL) -> [String] {
        Outcome.files(under: directory).keys.filter { $0.split(separator: "/").last?.contains(".tmp-") == true }.sorted()
    }

    /// Kill points spread over the whole run: all of them under `make chaos`, about a dozen here.
    static func points(total: Int) -> [Int] {
        if isFull { return Array(1...total) }
        let step = max(1, total / 11)
        return Array(Set(Array(stride(from: 1, through: total, by: step)) + [total])).sorted()
    }

    @Test(arguments: Scenario.allCases)
    func everyKillPointRecoversToTheSameStoreAndSnapshots(_ scenario: Scenario) async throws {
        let bench = try await Bench(scenario)
        let reference = try bench.copyOfStart("reference")
        let clean = try await bench.run(["run", "--all"], data: reference, environment: ["ZUORA_SYNC_CRASH_REPORT": "1"])
        #expect(clean.exitCode == 0, "\(clean.stderr)")
        let total = try #require(clean.stderr.split(separator: "\n").last { $0.hasPrefix("crash points: ") }.flatMap { Int($0.dropFirst(14)) })
        let expected = try Outcome(reference)
        let startRunIDs = Set(DataDirectory(bench.start).manifests().map(\.id))
        let referenceRun = try #require(DataDirectory(reference).manifests().first { !startRunIDs.contains($0.id) }?.id)
        let expectedCounts = try stageCounts(reference, run: referenceRun)
        var identical = 0, checked = 0
        for point in Self.points(total: total) {
            for recovery in Recovery.allCases {
                let data = try bench.copyOfStart("kill-\(point)-\(recovery.rawValue)")
                let killed = try await bench.run(["run", "--all"], data: data, environment: ["ZUORA_SYNC_CRASH_AT": "\(point)"])
                #expect(killed.exitCode == 137, "point \(point) of \(total): the process was not killed (\(killed.exitCode))")
                let startRuns = Set(DataDirectory(bench.start).manifests().map(\.id))
                let run = DataDirectory(data).manifests().first { !startRuns.contains($0.id) }.map(\.id)
                let committedDownloads = try run.map { try committedDownloadCommits(data, run: $0) } ?? [:]
                // Killed before its run.json existed, there is nothing to resume: an operator starts a run.
                let recovered = recovery == .resume && run != nil
                    ? try await bench.run(["resume", run!], data: data)
                    : try await bench.run(["run", "--all"], data: data)
                #expect(recovered.exitCode == 0, "point \(point), \(recovery): \(recovered.stderr)")
                let outcome = try Outcome(data)
                #expect(outcome.store == expected.store, "point \(point), \(recovery): the store differs")
                #expect(outcome.snapshots == expected.snapshots, "point \(point), \(recovery): snapshots differ: \(Set(outcome.snapshots.keys).symmetricDifference(expected.snapshots.keys).sorted().prefix(5))")
                #expect(Self.temporaryFiles(under: data).isEmpty, "point \(point), \(recovery): temporary files left: \(Self.temporaryFiles(under: data))")
                if recovery == .resume, let run {
                    // A download-exports stage that had committed is not done again.
                    #expect(try committedDownloadCommits(data, run: run).filter { committedDownloads[$0.key] != nil } == committedDownloads,
                            "point \(point): a committed download was redone")
                    // The resumed run says what an uninterrupted one says: what an interrupted
                    // save-workflows had already stored is counted, not taken as unchanged, and
                    // the tasks an interrupted extract-tasks had already extracted are counted.
                    #expect(try stageCounts(data, run: run) == expectedCounts, "point \(point): the resumed run's save/extract counts differ")
                }
                if outcome == expected { identical += 1 }
                checked += 1
                try? FileManager.default.removeItem(at: data)
            }
        }
        #expect(identical == checked)
        let report = "crash matrix \(scenario.rawValue): \(total) kill points, \(checked / 2) killed, \(checked) recoveries, \(identical) identical outcomes\n"
        FileHandle.standardError.write(Data(report.utf8))
    }

    /// The counts in each customer's save-workflows and extract-tasks commit markers of a run.
    func stageCounts(_ data: URL, run: String) throws -> [String: [String: Int]] {
        var result: [String: [String: Int]] = [:]
        for customer in ["initech", "hooli"] {
            for (index, stage) in [(4, "save-workflows"), (5, "extract-tasks")] {
                let commit = DataDirectory(data).stage(run: run, customer: customer, index: index, stageID: stage).appendingPathComponent(StageFiles.commit)
                result["\(customer) \(stage)"] = try PipelineRunner.readCommit(at: commit)?.counts
            }
        }
        return result
    }

    /// commit.json bytes of each customer's download-exports stage of a run, when committed.
    func committedDownloadCommits(_ data: URL, run: String) throws -> [String: Data] {
        var result: [String: Data] = [:]
        for customer in ["initech", "hooli"] {
            let commit = DataDirectory(data).stage(run: run, customer: customer, index: 3, stageID: "download-exports").appendingPathComponent(StageFiles.commit)
            if let bytes = try? Data(contentsOf: commit) { result[customer] = bytes }
        }
        return result
    }
}
