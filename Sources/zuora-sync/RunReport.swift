import Foundation
import ZuoraSyncKit

/// Prints a finished run: the table (stdout) or the manifest as JSON.
enum RunReport {
    static func print(_ manifest: RunManifest, dataDirectory: DataDirectory, json: Bool) throws {
        if json {
            FileHandle.standardOutput.write(try CanonicalJSON.encode(manifest))
        } else {
            Swift.print(RunSummaryFormatter.summary(manifest, dataDirectory: dataDirectory), terminator: "")
        }
    }
}
