import CSQLite

/// Errors from the lab's SQLite store. Each says which file and how to fix it.
public struct StoreError: Error, CustomStringConvertible, Sendable {
    private enum Code: Sendable {
        case cannotOpen
        case sqlite
        case newerSchema
        case notALabDatabase
        case locked
        case readOnly
        case badParameters
    }

    private let code: Code
    /// The full message shown to the user.
    public let description: String

    /// A short, bounded label for logs and tables.
    public var label: String {
        switch code {
        case .cannotOpen: "cannot_open"
        case .sqlite: "sqlite"
        case .newerSchema: "newer_schema"
        case .notALabDatabase: "not_a_lab_database"
        case .locked: "locked"
        case .readOnly: "read_only"
        case .badParameters: "bad_parameters"
        }
    }

    static func cannotOpen(path: String, reason: String) -> StoreError {
        StoreError(
            code: .cannotOpen,
            description: "\(path): cannot open the database (\(reason)). Check that the folder exists and is writable."
        )
    }

    static func sqlite(path: String, code rc: Int32, message: String, sql: String) -> StoreError {
        let primary = rc & 0xFF
        if primary == SQLITE_BUSY || primary == SQLITE_LOCKED {
            return StoreError(
                code: .locked,
                description: "\(path): the database is locked by another process (\(message)). "
                    + "Wait for it to finish, or use another --db path."
            )
        }
        if primary == SQLITE_READONLY || primary == SQLITE_CANTOPEN || primary == SQLITE_PERM {
            return StoreError(
                code: .readOnly,
                description: "\(path): the database cannot be written (\(message)). "
                    + "Check the file's and the folder's permissions, or use another --db path."
            )
        }
        if primary == SQLITE_NOTADB || primary == SQLITE_CORRUPT {
            return StoreError(
                code: .notALabDatabase,
                description: "\(path): not a valid SQLite database (\(message)). It was left untouched; "
                    + "use another --db path."
            )
        }
        let statement = sql.split(separator: "\n").first.map(String.init) ?? sql
        return StoreError(code: .sqlite, description: "\(path): SQLite error \(rc): \(message) (in: \(statement))")
    }

    static func newerSchema(path: String, found: Int, supported: Int) -> StoreError {
        StoreError(
            code: .newerSchema,
            description: "\(path): schema version \(found) is newer than this build supports (\(supported)). "
                + "It was left untouched; update async-patterns, or use another --db path."
        )
    }

    static func notALabDatabase(path: String, reason: String) -> StoreError {
        StoreError(
            code: .notALabDatabase,
            description: "\(path): not an async-patterns database (\(reason)). It was left untouched; "
                + "use another --db path."
        )
    }

    static func badParameters(_ text: String, reason: String) -> StoreError {
        StoreError(
            code: .badParameters,
            description: "cell parameters \(text.prefix(200)) are not a JSON object of numbers and strings "
                + "(\(reason)). The cell was written by something other than `experiments run`; re-run it."
        )
    }
}
