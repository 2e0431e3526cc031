/// Errors of the report stage. Each names the file or option and says how to fix it.
public struct ReportError: Error, CustomStringConvertible, Sendable {
    private enum Code: Sendable {
        case missingDatabase
        case emptyDatabase
        case cannotWrite
        case badOption
    }

    private let code: Code
    /// The full message shown to the user.
    public let description: String

    /// A short, bounded label.
    public var label: String {
        switch code {
        case .missingDatabase: "missing_database"
        case .emptyDatabase: "empty_database"
        case .cannotWrite: "cannot_write"
        case .badOption: "bad_option"
        }
    }

    static func missingDatabase(_ path: String) -> ReportError {
        ReportError(
            code: .missingDatabase,
            description: "\(path): no such database (--db). Run `make experiments` first, or pass --db PATH.")
    }

    static func emptyDatabase(_ path: String) -> ReportError {
        ReportError(
            code: .emptyDatabase,
            description: "\(path): the database holds no complete cells. Run `make experiments` "
                + "(or `swift run experiments experiments/<spec>.json`) first.")
    }

    static func cannotWrite(_ path: String, reason: String) -> ReportError {
        ReportError(
            code: .cannotWrite,
            description: "\(path): cannot write the report (\(reason)). Check the folder's permissions, "
                + "or pass another --out DIR.")
    }

    static func badOption(_ option: String, value: String, allowed: String) -> ReportError {
        ReportError(code: .badOption, description: "\(option) \(value): not allowed; use \(allowed).")
    }
}
