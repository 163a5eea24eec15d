import Foundation

/// Programs some tests drive (python3, chromium, dot), found on PATH. A test that needs one is
/// skipped with a visible reason when it is missing; `make deps` installs them.
enum ExternalTools {
    /// The first executable named `name` on PATH.
    static func find(_ names: String...) -> URL? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for name in names {
            for folder in path.split(separator: ":") {
                let candidate = URL(fileURLWithPath: String(folder)).appendingPathComponent(name)
                if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            }
        }
        return nil
    }

    static var python3: URL? { find("python3") }
    static var chromium: URL? { find("chromium", "chromium-browser", "google-chrome") }
    static var dot: URL? { find("dot") }

    /// Runs a program to its end and returns its exit code, stdout and stderr, without blocking a
    /// cooperative thread.
    static func run(_ executable: URL, _ arguments: [String], stdin: String? = nil) async throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let out = Pipe(), err = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        let stdoutData = PipeCollector(out.fileHandleForReading)
        let stderrData = PipeCollector(err.fileHandleForReading)
        let stdoutText = await stdoutData.text()
        let stderrText = await stderrData.text()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            Thread { [process] in
                process.waitUntilExit()
                continuation.resume()
            }.start()
        }
        return (process.terminationStatus, stdoutText, stderrText)
    }
}
