import Foundation
import ZuoraSyncCore

/// Serialises updates of `run.json` from customers running concurrently; every update is written
/// atomically.
actor RunJournal {
    private(set) var manifest: RunManifest
    private let url: URL

    init(manifest: RunManifest, url: URL) throws {
        self.manifest = manifest
        self.url = url
        try CanonicalJSON.write(manifest, to: url)
    }

    func update(_ change: (inout RunManifest) -> Void) throws {
        change(&manifest)
        try CanonicalJSON.write(manifest, to: url)
    }

    func setResult(_ result: CustomerResult) throws {
        try update { manifest in
            if let index = manifest.results.firstIndex(where: { $0.customer == result.customer }) {
                manifest.results[index] = result
            } else {
                manifest.results.append(result)
                manifest.results.sort { $0.customer < $1.customer }
            }
        }
    }
}
