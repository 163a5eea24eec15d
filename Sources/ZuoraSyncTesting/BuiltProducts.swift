import Foundation

/// Where SwiftPM put the built products of this package, found from the running test bundle (the
/// `zuora-sync` binary lies beside it), not from a hard-coded `.build/debug` path.
public enum BuiltProducts {
    /// The directory that holds the test bundle and the executable.
    public static var directory: URL {
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            return bundle.bundleURL.deletingLastPathComponent()
        }
        // swift-testing on Linux runs the tests from the `*PackageTests.xctest` executable.
        return URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
    }

    /// The `zuora-sync` executable of this build.
    public static var zuoraSync: URL { directory.appendingPathComponent("zuora-sync") }
}
