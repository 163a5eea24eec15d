import Foundation
import ZuoraSyncCore

/// What a person watching a run sees, computed from run events: one row per customer (stage,
/// pages, exports done/total, rate, ETA, retries, waits). Pure: the caller supplies the time and
/// writes the text (redrawn in place on a terminal, plain lines otherwise).
public struct ProgressBoard: Sendable {
    /// One customer's state.
    public struct Row: Sendable, Equatable {
        public var customer: String
        public var stage: String?
        /// `running`, `succeeded`, `failed`, `interrupted`.
        public var status = "waiting"
        public var pages = 0
        public var exportsDone = 0
        public var exportsTotal: Int?
        public var retries = 0
        public var waits = 0
        public var stageStartedAt: Date?
        public var message: String?

        /// Items per second in the current stage (exports), when there is enough to say.
        public func rate(now: Date) -> Double? {
            guard let started = stageStartedAt, exportsDone > 0 else { return nil }
            let elapsed = now.timeIntervalSince(started)
            return elapsed > 0.2 ? Double(exportsDone) / elapsed : nil
        }

        /// Seconds until the exports are done at the current rate.
        public func eta(now: Date) -> Double? {
            guard let total = exportsTotal, let rate = rate(now: now), rate > 0 else { return nil }
            return Double(max(0, total - exportsDone)) / rate
        }
    }

    public private(set) var runID = ""
    public private(set) var runStartedAt: Date?
    public private(set) var rows: [Row] = []

    public init() {}

    /// Folds one event into the board.
    public mutating func apply(_ event: RunEvent) {
        switch event.event {
        case .runStarted:
            runID = event.run
            runStartedAt = event.time
            return
        case .runFinished:
            return
        default: break
        }
        guard let customer = event.customer else { return }
        var row = rows.first { $0.customer == customer } ?? Row(customer: customer)
        switch event.event {
        case .stageStarted:
            row.status = "running"
            row.stage = event.stage
            row.stageStartedAt = event.time
        case .stageFinished:
            row.status = "running"
            row.stage = event.stage
        case .progress where event.unit == "pages":
            row.pages = event.done ?? row.pages
        case .progress where event.unit == "exports":
            row.exportsDone = event.done ?? row.exportsDone
            row.exportsTotal = event.total
        case .retry:
            row.retries += 1
        case .wait:
            row.waits += 1
        case .customerFinished:
            row.status = "succeeded"
            row.stage = nil
        case .customerFailed:
            row.status = event.status ?? "failed"
            row.message = event.message
        default:
            break
        }
        if let index = rows.firstIndex(where: { $0.customer == customer }) { rows[index] = row } else { rows.append(row) }
    }

    /// The board as lines for a terminal: a header, then one line per customer.
    public func render(now: Date) -> [String] {
        let elapsed = runStartedAt.map { RunSummaryFormatter.duration(milliseconds: Int(now.timeIntervalSince($0) * 1000)) } ?? "-"
        let header = "run \(runID)  \(elapsed)"
        let width = max(8, rows.map(\.customer.count).max() ?? 8)
        return [header] + rows.map { row in
            var parts = [row.customer.padding(toLength: width, withPad: " ", startingAt: 0),
                         (row.stage ?? row.status).padding(toLength: 22, withPad: " ", startingAt: 0)]
            if row.pages > 0 { parts.append("pages \(row.pages)") }
            if let total = row.exportsTotal { parts.append("exports \(row.exportsDone)/\(total)") }
            if row.status == "running", let rate = row.rate(now: now) { parts.append(String(format: "%.1f/s", rate)) }
            if row.status == "running", let eta = row.eta(now: now) { parts.append("ETA \(Self.seconds(eta))") }
            if row.retries > 0 { parts.append("retries \(row.retries)") }
            if row.waits > 0 { parts.append("waits \(row.waits)") }
            if row.stage != nil, row.status != "running" { parts.append(row.status) }
            return parts.joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
    }

    /// The plain line for an event on a non-terminal (nil: nothing to print). Progress events get
    /// a line only when `isProgressDue` (the caller thins them out by time).
    public func plainLine(for event: RunEvent, now: Date, isProgressDue: Bool) -> String? {
        let who = event.customer.map { "\($0): " } ?? ""
        switch event.event {
        case .runStarted:
            return "run \(event.run) \(event.status ?? "started") (\(event.total ?? 0) customer(s))"
        case .runFinished:
            return "run \(event.run) \(event.status ?? "finished")"
        case .stageStarted:
            return "\(who)\(event.stage ?? "-") started"
        case .stageFinished:
            let counts = (event.counts ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            let time = event.durationMilliseconds.map { " in " + RunSummaryFormatter.duration(milliseconds: $0) } ?? ""
            return "\(who)\(event.stage ?? "-") \(event.status ?? "finished")\(time)" + (counts.isEmpty ? "" : " (\(counts))")
        case .progress:
            guard isProgressDue, let row = rows.first(where: { $0.customer == event.customer }) else { return nil }
            var text = "\(who)\(event.stage ?? "-") \(event.done ?? 0)" + (event.total.map { "/\($0)" } ?? "") + " \(event.unit ?? "")"
            if let rate = row.rate(now: now) { text += String(format: ", %.1f/s", rate) }
            if let eta = row.eta(now: now) { text += ", ETA \(Self.seconds(eta))" }
            return text
        case .wait:
            return "\(who)waiting \(Self.seconds(event.waitSeconds ?? 0)) (\(event.message ?? "rate limit"))"
        case .customerFailed:
            return "\(who)\(event.status ?? "failed") at \(event.stage ?? "-"): \(event.message ?? "")"
        case .customerFinished:
            return "\(who)done" + (event.durationMilliseconds.map { " in " + RunSummaryFormatter.duration(milliseconds: $0) } ?? "")
        case .warning, .retry:
            return nil
        }
    }

    static func seconds(_ value: Double) -> String {
        value < 90 ? "\(Int(value.rounded())) s" : "\(Int((value / 60).rounded())) min"
    }
}
