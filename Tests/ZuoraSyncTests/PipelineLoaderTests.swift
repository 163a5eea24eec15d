import Foundation
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

@Suite("Pipeline YAML loader")
struct PipelineLoaderTests {
    static let stages = """
        stages:
          - id: validate-credentials
            kind: validate-credentials
          - id: oauth-token
            kind: oauth-token
          - id: fetch-workflow-pages
            kind: fetch-workflow-pages
            page_size: 50
          - id: download-exports
            kind: download-exports
        """

    func loadError(_ text: String) -> ConfigurationError? {
        do {
            _ = try PipelineLoader.parse(text: text, file: "p.yaml", registry: BuiltInStages.registry)
            return nil
        } catch let error as ConfigurationError {
            return error
        } catch {
            Issue.record("unexpected error type: \(error)")
            return nil
        }
    }

    @Test func loadsTheShippedPipeline() throws {
        let pipeline = try PipelineLoader.load(path: TestWorkspace.pipelinePath, registry: BuiltInStages.registry)
        // Every built-in kind but the optional write-report, which a pipeline may add at the end.
        #expect(pipeline.stages.map(\.kind) == BuiltInStages.registry.names.filter { $0 != WriteReport.name })
        #expect(pipeline.stage(kind: FetchWorkflowPages.name)?.settings["page_size"] == .int(50))
        #expect(pipeline.client.concurrency == 8)
        #expect(pipeline.stage(kind: ValidateCredentials.name)?.settings == [:], "a stage carries only its own settings")
        #expect(pipeline.jobs.retryDelays == [60, 120])
        #expect(pipeline.schedule == "0 * * * *")
    }

    @Test func malformedYAMLNamesTheLine() throws {
        let error = try #require(loadError("name: x\nstages:\n  - id: a\n   kind: [oops\n"))
        #expect(error.description.hasPrefix("p.yaml:"))
        #expect(error.line != nil && error.line! >= 3)
        #expect(error.message.contains("malformed YAML"))
    }

    @Test func unknownTopLevelKeySuggestsTheRightOne() throws {
        let error = try #require(loadError("name: x\ncustmer_concurrency: 3\n" + Self.stages))
        #expect(error.line == 2)
        #expect(error.keyPath == "custmer_concurrency")
        #expect(error.message.contains("Did you mean 'customer_concurrency'?"))
    }

    @Test func unknownStageKeyHasItsLineAndPath() throws {
        let text = Self.stages.replacingOccurrences(of: "page_size: 50", with: "page_sise: 50")
        let error = try #require(loadError(text))
        #expect(error.line == 8)
        #expect(error.keyPath == "stages[2].page_sise")
        #expect(error.message.contains("Did you mean 'page_size'?"))
    }

    @Test func unknownStageKindSuggests() throws {
        let text = Self.stages.replacingOccurrences(of: "kind: download-exports", with: "kind: downlod-exports")
        let error = try #require(loadError(text))
        #expect(error.line == 10)
        #expect(error.message.contains("unknown stage kind 'downlod-exports'"))
        #expect(error.message.contains("Did you mean 'download-exports'?"))
    }

    @Test func stagesOutOfOrderAreRejected() throws {
        let text = """
            stages:
              - id: validate-credentials
                kind: validate-credentials
              - id: oauth-token
                kind: oauth-token
              - id: fetch-workflow-pages
                kind: fetch-workflow-pages
              - id: save
                kind: save-workflows
              - id: download-exports
                kind: download-exports
            """
        let error = try #require(loadError(text))
        #expect(error.line == 9)
        #expect(error.message.contains("'save-workflows' needs the output of a 'download-exports' stage before it"))
        #expect(error.message.contains("move it up"))
    }

    @Test func aStageWithoutItsInputIsRejected() throws {
        let text = """
            stages:
              - id: validate-credentials
                kind: validate-credentials
              - id: oauth-token
                kind: oauth-token
              - id: save
                kind: save-workflows
            """
        let error = try #require(loadError(text))
        #expect(error.line == 7)
        #expect(error.message.contains("needs the output of a 'fetch-workflow-pages' stage"))
    }

    @Test(arguments: [0, 51])
    func pageSizeOutOfRangeIsRejected(_ size: Int) throws {
        let error = try #require(loadError(Self.stages.replacingOccurrences(of: "page_size: 50", with: "page_size: \(size)")))
        #expect(error.line == 8)
        #expect(error.keyPath == "stages[2].page_size")
        #expect(error.message.contains("\(size) is out of range; use a whole number from 1 to 50"))
    }

    @Test func duplicateKeysAndIDsAreRejected() throws {
        let duplicateKey = try #require(loadError("name: a\nname: b\n" + Self.stages))
        #expect(duplicateKey.message.contains("duplicate key"))
        let duplicateID = try #require(loadError(Self.stages.replacingOccurrences(of: "id: oauth-token", with: "id: validate-credentials")))
        #expect(duplicateID.line == 4)
        #expect(duplicateID.message.contains("used twice"))
    }

    @Test func badScheduleIsRejected() throws {
        let error = try #require(loadError("schedule: \"61 * * * *\"\n" + Self.stages))
        #expect(error.line == 1)
        #expect(error.keyPath == "schedule")
    }

    @Test func missingStagesAreReported() throws {
        let error = try #require(loadError("name: x\n"))
        #expect(error.keyPath == "stages")
        #expect(error.message.contains("required"))
    }
}

@Suite("Customers file")
struct CustomersLoaderTests {
    func loadError(_ text: String) -> String? {
        do {
            _ = try CustomersLoader.parse(text: text, file: "c.yaml")
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func loadsTheExampleAndDemoFiles() throws {
        let example = try CustomersLoader.load(path: TestWorkspace.repositoryRoot.appendingPathComponent("customers.example.yaml").path)
        #expect(example.map(\.id) == ["acme", "acme-eu"])
        #expect(example[0].secret == .environment("ZUORA_ACME_SECRET"))
        #expect(example[1].entityIDs == "8a8aa1b2c3d4e5f6")
        let demo = try CustomersLoader.load(path: TestWorkspace.repositoryRoot.appendingPathComponent("customers.demo.yaml").path)
        #expect(demo.map(\.id) == ["globex", "initech", "hooli"])
    }

    @Test func duplicateIDsNameTheCustomerAndLine() throws {
        let text = """
            customers:
              - {id: a, base_url: "https://rest.zuora.com", client_id: x, client_secret_env: A}
              - {id: a, base_url: "https://rest.zuora.com", client_id: y, client_secret_env: B}
            """
        let message = try #require(loadError(text))
        #expect(message.contains("c.yaml:3"))
        #expect(message.contains("customer id 'a' is used twice"))
    }

    @Test func missingSecretIsRejected() throws {
        let message = try #require(loadError("customers:\n  - {id: a, base_url: \"https://rest.zuora.com\", client_id: x}\n"))
        #expect(message.contains("customer 'a'"))
        #expect(message.contains("client_secret_env"))
    }

    @Test(arguments: [
        ("ftp://x", "must start with https://"),
        ("http://rest.zuora.com", "plain http"),
        ("https://rest.zuora.com?x=1", "query"),
        ("not a url", "is not a URL"),
    ])
    func badBaseURLsAreRejected(_ url: String, _ expected: String) throws {
        let message = try #require(loadError("customers:\n  - {id: a, base_url: \"\(url)\", client_id: x, client_secret_env: A}\n"))
        #expect(message.contains(expected), "\(message)")
        #expect(message.contains("customer 'a'") || message.contains("base_url"))
    }

    @Test func inlineSecretOnlyForLocalURLs() throws {
        let remote = try #require(loadError("customers:\n  - {id: a, base_url: \"https://rest.zuora.com\", client_id: x, client_secret: s3cr3t}\n"))
        #expect(remote.contains("inline secret is accepted only"))
        #expect(!remote.contains("s3cr3t"))
        let local = try CustomersLoader.parse(text: "customers:\n  - {id: a, base_url: \"http://127.0.0.1:8080/t\", client_id: x, client_secret: s}\n", file: "c.yaml")
        #expect(local[0].baseURL.absoluteString == "http://127.0.0.1:8080/t")
    }

    @Test(arguments: ["../x", "A", "a/b", ".hidden", ""])
    func unsafeCustomerIDsAreRejected(_ id: String) throws {
        let message = try #require(loadError("customers:\n  - {id: \"\(id)\", base_url: \"fixture://a\", client_id: x, client_secret: s}\n"))
        #expect(message.contains("id"))
    }

    @Test func secretsResolveFromEnvironmentAndFileWithoutLeaking() throws {
        #expect(try SecretSource.environment("S").resolve(environment: ["S": "value"]) == "value")
        #expect(throws: SecretError.self) { try SecretSource.environment("S").resolve(environment: [:]) }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("secret-\(UUID().uuidString)")
        try "  from-file\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        #expect(try SecretSource.file(file.path).resolve(environment: [:]) == "from-file")
        #expect(!SecretSource.inline("hunter2").description.contains("hunter2"))
    }
}
