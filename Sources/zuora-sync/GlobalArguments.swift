/// Lets the options every command takes come before the subcommand too:
/// `zuora-sync --data-dir d runs` is read as `zuora-sync runs --data-dir d`.
enum GlobalArguments {
    /// Options with a value that `GlobalOptions` declares.
    static let valued: Set<String> = ["--data-dir", "--customers", "--fixtures", "--log-level", "--log-format"]
    /// Flags that `GlobalOptions` declares.
    static let flags: Set<String> = ["-v", "--verbose"]

    /// Moves global options found before the first non-option word (the subcommand) to the end.
    /// Anything else before the subcommand (`--help`, `--version`, an unknown option) stops the
    /// move, so ArgumentParser reports it as usual.
    static func reorder(_ arguments: [String]) -> [String] {
        var moved: [String] = []
        var index = 0
        while index < arguments.count {
            let word = arguments[index]
            let name = word.split(separator: "=", maxSplits: 1).first.map(String.init) ?? word
            if flags.contains(word) {
                moved.append(word)
                index += 1
            } else if valued.contains(name) {
                if word.contains("=") {
                    moved.append(word)
                    index += 1
                } else {
                    moved.append(contentsOf: arguments[index..<min(index + 2, arguments.count)])
                    index += 2
                }
            } else {
                break
            }
        }
        guard !moved.isEmpty, index < arguments.count else { return arguments }
        return Array(arguments[index...]) + moved
    }
}
