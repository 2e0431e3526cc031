/// Parses HTTP `Retry-After` values (RFC 9110 §10.2.3): delta-seconds, or an HTTP-date in any of the three
/// formats a recipient must accept (IMF-fixdate, obsolete RFC 850, asctime). Dates are read as UTC.
public enum RetryAfter {
    /// The delay `value` asks for, measured from `now` (seconds since the Unix epoch); nil when it is not valid.
    /// A date in the past gives zero.
    public static func delay(_ value: String, nowSinceEpoch now: Duration) -> Duration? {
        let trimmed = value.utf8.drop { $0 == 0x20 || $0 == 0x09 }
        let text = Substring(trimmed).trimmingTrailingWhitespace
        guard !text.isEmpty else { return nil }
        if text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
            guard let seconds = Int64(text) else { return .seconds(Int64.max / 1_000_000_000) }
            return .seconds(seconds)
        }
        guard let epochSeconds = httpDateEpochSeconds(text) else { return nil }
        let delay = Duration.seconds(epochSeconds) - now
        return delay > .zero ? delay : .zero
    }

    /// Seconds since the Unix epoch of an HTTP-date, or nil when `text` is not one.
    public static func httpDateEpochSeconds(_ text: Substring) -> Int64? {
        let fields = text.split(separator: " ", omittingEmptySubsequences: true)
        let day: Int
        let month: Int
        var year: Int
        let time: Substring
        if fields.count == 6, fields[0].hasSuffix(","), fields[5] == "GMT" {
            // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
            guard fields[1].count == 2, fields[3].count == 4, let d = Int(fields[1]), let m = monthNumber(fields[2]),
                let y = Int(fields[3])
            else { return nil }
            (day, month, year, time) = (d, m, y, fields[4])
        } else if fields.count == 4, fields[0].hasSuffix(","), fields[3] == "GMT" {
            // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT
            let parts = fields[1].split(separator: "-", omittingEmptySubsequences: false)
            guard parts.count == 3, parts[0].count == 2, parts[2].count == 2, let d = Int(parts[0]),
                let m = monthNumber(parts[1]), let y = Int(parts[2])
            else { return nil }
            // Two-digit years: RFC 9110 says a date more than 50 years ahead is in the past century.
            (day, month, year, time) = (d, m, y < 70 ? 2000 + y : 1900 + y, fields[2])
        } else if fields.count == 5, !fields[0].hasSuffix(",") {
            // asctime: Sun Nov  6 08:49:37 1994
            guard fields[2].count <= 2, fields[4].count == 4, let m = monthNumber(fields[1]), let d = Int(fields[2]),
                let y = Int(fields[4])
            else { return nil }
            (day, month, year, time) = (d, m, y, fields[3])
        } else {
            return nil
        }
        guard let dayName = fields.first, dayName.count >= 3, dayName.first!.isLetter else { return nil }
        let clock = time.split(separator: ":", omittingEmptySubsequences: false)
        guard clock.count == 3, clock.allSatisfy({ $0.count == 2 }), let hour = Int(clock[0]),
            let minute = Int(clock[1]), let second = Int(clock[2]), hour < 24, minute < 60, second <= 60,
            day >= 1, day <= daysIn(month: month, year: year), year >= 1
        else { return nil }
        year = max(year, 1)
        let days = daysFromCivil(year: year, month: month, day: day)
        return days * 86_400 + Int64(hour * 3600 + minute * 60 + second)
    }

    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    private static func monthNumber(_ name: Substring) -> Int? {
        months.firstIndex { $0 == name }.map { $0 + 1 }
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let m = Int64(month)
        let dayOfYear = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}

extension Substring {
    fileprivate var trimmingTrailingWhitespace: Substring {
        var end = endIndex
        while end > startIndex {
            let previous = index(before: end)
            guard self[previous] == " " || self[previous] == "\t" else { break }
            end = previous
        }
        return self[startIndex..<end]
    }
}
