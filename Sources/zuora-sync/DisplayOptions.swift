import ArgumentParser
import Foundation
import ZuoraSyncCore

/// How `run`, `resume`, `sync --sync` and `work` show a run while it works.
struct DisplayOptions: ParsableArguments {
    @Flag(help: "Print one JSON event per line on stdout (schema: README \"Run events\").") var events = false
    @Flag(name: [.customShort("q"), .customLong("quiet")], help: "No live display: plain lines per stage and a progress line every few seconds.")
    var quiet = false

    /// The sink for a run: JSON events on stdout (`--events` or `--json`), else the progress display
    /// on stderr; none when JSON log lines go to a non-terminal stderr (plain lines would break them).
    func sink(json: Bool, global: GlobalOptions, clock: any WallClock = SystemClock()) -> any RunEventSink {
        if events || json { return EventLinePrinter() }
        let isTerminal = isatty(STDERR_FILENO) == 1 && ProcessEnvironment.current()["TERM"] != "dumb"
        if !isTerminal && global.resolvedLogFormat == .json { return NoRunEvents() }
        return ProgressDisplay(mode: isTerminal && !quiet ? .live : .plain, clock: clock)
    }
}
