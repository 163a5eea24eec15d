import Foundation

/// A five-field cron expression (minute hour day-of-month month day-of-week), evaluated in UTC.
/// Fields take `*`, numbers, ranges `a-b`, lists `a,b` and steps `*/n` or `a-b/n`.
public struct CronSchedule: Sendable, Equatable {
    public struct ParseError: Error, Sendable { public let message: String }

    public let expression: String
    private let minutes: Set<Int>, hours: Set<Int>, days: Set<Int>, months: Set<Int>, weekdays: Set<Int>
    private let isDayRestricted: Bool, isWeekdayRestricted: Bool

    public init(_ expression: String) throws {
        let fields = expression.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard fields.count == 5 else { throw ParseError(message: "'\(expression)' has \(fields.count) fields, a cron expression has 5") }
        self.expression = expression
        minutes = try Self.parse(fields[0], 0...59, "minute")
        hours = try Self.parse(fields[1], 0...23, "hour")
        days = try Self.parse(fields[2], 1...31, "day of month")
        months = try Self.parse(fields[3], 1...12, "month")
        weekdays = Set(try Self.parse(fields[4], 0...7, "day of week").map { $0 % 7 })
        isDayRestricted = fields[2] != "*"
        isWeekdayRestricted = fields[4] != "*"
    }

    /// Whether the minute that contains `date` is a scheduled one.
    public func matches(_ date: Date) -> Bool {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.minute, .hour, .day, .month, .weekday], from: date)
        guard minutes.contains(parts.minute!), hours.contains(parts.hour!), months.contains(parts.month!) else { return false }
        let dayOK = days.contains(parts.day!)
        let weekdayOK = weekdays.contains(parts.weekday! - 1)
        // Cron's rule: when both day fields are restricted, either may match.
        if isDayRestricted && isWeekdayRestricted { return dayOK || weekdayOK }
        return dayOK && weekdayOK
    }

    /// The first scheduled minute strictly after `date`, within about five years.
    public func nextRun(after date: Date) -> Date? {
        var candidate = (date.timeIntervalSince1970 / 60).rounded(.down) * 60 + 60
        let limit = candidate + 5 * 366 * 86_400
        while candidate < limit {
            let instant = Date(timeIntervalSince1970: candidate)
            if matches(instant) { return instant }
            candidate += 60
        }
        return nil
    }

    /// The latest scheduled minute in `(after, upTo]`, or nil; used to catch up once after downtime.
    public func latestRun(after start: Date, upTo end: Date) -> Date? {
        var candidate = (end.timeIntervalSince1970 / 60).rounded(.down) * 60
        let floor = start.timeIntervalSince1970
        var checked = 0
        while candidate > floor && checked < 600_000 {
            let instant = Date(timeIntervalSince1970: candidate)
            if matches(instant) { return instant }
            candidate -= 60
            checked += 1
        }
        return nil
    }

    private static func parse(_ field: String, _ range: ClosedRange<Int>, _ name: String) throws -> Set<Int> {
        var values = Set<Int>()
        for part in field.split(separator: ",", omittingEmptySubsequences: false) {
            let pieces = part.split(separator: "/", omittingEmptySubsequences: false)
            guard pieces.count <= 2 else { throw ParseError(message: "bad \(name) field '\(field)'") }
            var step = 1
            if pieces.count == 2 {
                guard let parsed = Int(pieces[1]), parsed > 0 else { throw ParseError(message: "bad step in \(name) field '\(field)'") }
                step = parsed
            }
            var lower = range.lowerBound, upper = range.upperBound
            if pieces[0] != "*" {
                let bounds = pieces[0].split(separator: "-", omittingEmptySubsequences: false)
                guard bounds.count <= 2, let first = Int(bounds[0]) else { throw ParseError(message: "bad \(name) field '\(field)'") }
                lower = first
                upper = bounds.count == 2 ? (Int(bounds[1]) ?? -1) : (pieces.count == 2 ? range.upperBound : first)
            }
            guard range.contains(lower), range.contains(upper), lower <= upper else {
                throw ParseError(message: "\(name) field '\(field)' is outside \(range.lowerBound)-\(range.upperBound)")
            }
            values.formUnion(stride(from: lower, through: upper, by: step))
        }
        return values
    }
}
