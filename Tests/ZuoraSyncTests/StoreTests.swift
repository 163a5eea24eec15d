import Foundation
import GRDB
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

@Suite("Store constraints and path safety")
struct StoreTests {
    func customer(_ id: String) -> CustomerConfig {
        CustomerConfig(id: id, name: id, baseURL: URL(string: "fixture://\(id)")!, clientID: "c", secret: .inline("s"))
    }

    @Test func duplicateTaskIDsInAnExportKeepTheFirst() {
        let export = try! JSONValue.parse(Data("""
            {"workflow": {}, "tasks": [{"id": 1, "name": "a", "task_id": null}, {"id": 1, "name": "b"}, {"name": "no id"}],
             "linkages": [{"linkage_type": "Start", "source_workflow_id": 5, "source_task_id": null, "target_task_id": 1}]}
            """.utf8))
        let extraction = TaskExtractor.extract(from: export)
        #expect(extraction.tasks.map(\.name) == ["a"])
        #expect(extraction.warnings.count == 2)
        #expect(extraction.linkages.first?.sourceTaskID == nil)
    }

    /// NUL becomes U+FFFD in task columns; two keys that then collide become one, the same one on
    /// every run, instead of crashing the sync.
    @Test func nulInTaskColumnsIsReplacedAndCollidingKeysDoNotCrash() throws {
        let export = try JSONValue.parse(Data(#"""
            {"workflow": {}, "tasks": [{"id": 1, "name": "a\u0000b",
              "parameters": {"k\u0000": 1, "k\ufffd": 2, "clean": "x\u0000"}, "tags": ["t\u0000"], "css": {"plain": 1}}]}
            """#.utf8))
        let task = try #require(TaskExtractor.extract(from: export).tasks.first)
        #expect(task.name == "a\u{FFFD}b")
        // "k\u{FFFD}" sorts after "k\0": its value wins.
        #expect(task.parameters == #"{"clean":"x\#u{FFFD}","k\#u{FFFD}":2}"#)
        #expect(task.tags == #"["t\#u{FFFD}"]"#)
        #expect(task.css == #"{"plain":1}"#)
    }

    @Test(arguments: [
        JSONValue.object(["id": .string("../x"), "name": .string("evil")]),
        JSONValue.object(["id": .int(-3), "name": .string("negative")]),
        JSONValue.object(["id": .null, "name": .string("null")]),
        JSONValue.object(["name": .string("missing")]),
    ])
    func listItemsWithoutASafeIDAreRejected(_ item: JSONValue) {
        #expect(ListedWorkflow(item: item) == nil)
    }

    @Test func numericStringIDsAreAccepted() {
        #expect(ListedWorkflow(item: .object(["id": .string("48"), "name": .string("x")]))?.id == 48)
    }

    @Test func runAndCustomerIDsUsedInPathsAreChecked() throws {
        #expect(!SafeIdentifier.isValidRunID("../etc"))
        #expect(!SafeIdentifier.isValidRunID(".hidden"))
        #expect(SafeIdentifier.isValidRunID("20261129T052000Z-1a2b3c"))
        #expect(!SafeIdentifier.isValidCustomerID("../x"))
        #expect(throws: FileError.self) { try DataDirectory(path: "/tmp").loadManifest("../../etc/passwd") }
    }

    @Test func aDuplicateIDAcrossPagesIsCountedOnce() async throws {
        let workspace = try TestWorkspace()
        // Put workflow 100 (page 1) again at the end of the listing (page 3), as a shifted listing would.
        let listURL = workspace.fixtures.appendingPathComponent("globex/workflows.json")
        var items = try JSONValue.parse(Data(contentsOf: listURL)).arrayValue!
        items.append(items[0])
        try AtomicFile.write(JSONValue.array(items).canonicalData(), to: listURL)
        let manifest = try await workspace.sync(["globex"])
        let commit = try CanonicalJSON.read(StageCommit.self, from: workspace.data.stage(run: manifest.id, customer: "globex", index: 2, stageID: "fetch-workflow-pages").appendingPathComponent("commit.json"))
        #expect(commit.counts["listed"] == 123)
        #expect(commit.counts["duplicates"] == 1)
        #expect(commit.counts["skipped_without_id"] == 1)
    }
}

extension ExtractedTask {
    init(zuoraTaskID: Int64, parentTaskID: Int64? = nil) {
        self.init(zuoraTaskID: zuoraTaskID, parentTaskID: parentTaskID, name: nil, actionType: nil, callType: nil, object: nil,
                  objectID: nil, priority: nil, concurrentLimit: nil, tags: nil, parameters: nil, assignment: nil, css: nil,
                  zuoraOrgID: nil, subprocessID: nil)
    }
}
