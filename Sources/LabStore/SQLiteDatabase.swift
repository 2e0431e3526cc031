import CSQLite
import Foundation

/// A thin, synchronous wrapper over one SQLite connection. Not thread-safe: use it from one thread or
/// behind a lock. All SQL values are bound, never interpolated.
public final class SQLiteDatabase {
    private(set) var handle: OpaquePointer?
    /// The database file's path.
    public let path: String

    /// How the database file is opened.
    public enum Mode: Sendable {
        /// Read and write; create the file when missing.
        case readWriteCreate
        /// Read and write an existing file.
        case readWrite
        /// Read only.
        case readOnly
    }

    /// Opens (or creates) the database at `path`.
    /// - Throws: `StoreError` naming the path when SQLite cannot open it.
    public init(path: String, mode: Mode = .readWriteCreate, busyTimeout: Duration = .seconds(2)) throws {
        self.path = path
        let flags: Int32
        switch mode {
        case .readWriteCreate: flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        case .readWrite: flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX
        case .readOnly: flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX
        }
        var db: OpaquePointer?
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close(db)
            throw StoreError.cannotOpen(path: path, reason: message)
        }
        self.handle = db
        let ms = Int32(
            busyTimeout.components.seconds * 1000 + busyTimeout.components.attoseconds / 1_000_000_000_000_000)
        sqlite3_busy_timeout(db, ms)
    }

    deinit {
        sqlite3_close_v2(handle)
    }

    /// Runs one or more SQL statements that take no parameters.
    public func execute(_ sql: String) throws {
        var errorMessage: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &errorMessage)
        if rc != SQLITE_OK {
            let message = errorMessage.map { String(cString: $0) } ?? "error \(rc)"
            sqlite3_free(errorMessage)
            throw StoreError.sqlite(path: path, code: rc, message: message, sql: sql)
        }
    }

    /// Compiles a statement for repeated use.
    public func prepare(_ sql: String) throws -> SQLiteStatement {
        var statement: OpaquePointer?
        let rc = sqlite3_prepare_v2(handle, sql, -1, &statement, nil)
        guard rc == SQLITE_OK, let statement else {
            throw StoreError.sqlite(path: path, code: rc, message: lastErrorMessage, sql: sql)
        }
        return SQLiteStatement(database: self, statement: statement, sql: sql)
    }

    /// Runs `body` inside `BEGIN IMMEDIATE … COMMIT`, rolling back when it throws.
    public func transaction<R>(_ body: () throws -> R) throws -> R {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// Runs a query with bound values and returns every row.
    public func query(_ sql: String, _ values: [SQLiteValue] = []) throws -> [SQLiteRow] {
        let statement = try prepare(sql)
        try statement.bind(values)
        var rows: [SQLiteRow] = []
        while let row = try statement.step() { rows.append(row) }
        return rows
    }

    /// Runs a statement with bound values that returns no rows.
    public func run(_ sql: String, _ values: [SQLiteValue] = []) throws {
        let statement = try prepare(sql)
        try statement.bind(values)
        while try statement.step() != nil {}
    }

    /// The rowid of the last inserted row.
    public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    var lastErrorMessage: String { String(cString: sqlite3_errmsg(handle)) }
}

/// A value bound to or read from SQLite.
public enum SQLiteValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)

    /// The value as an integer, if it is one.
    public var int: Int64? {
        if case .integer(let v) = self { return v }
        if case .real(let v) = self { return Int64(v) }
        return nil
    }
    /// The value as a double, if it is numeric.
    public var double: Double? {
        switch self {
        case .integer(let v): return Double(v)
        case .real(let v): return v
        default: return nil
        }
    }
    /// The value as text, if it is text.
    public var string: String? {
        if case .text(let v) = self { return v }
        return nil
    }
}

/// One result row, by column name.
public struct SQLiteRow: Sendable {
    /// Column names in order.
    public let columns: [String]
    /// Values in column order.
    public let values: [SQLiteValue]

    /// The value of the named column, or `.null` when absent.
    public subscript(_ name: String) -> SQLiteValue {
        guard let index = columns.firstIndex(of: name) else { return .null }
        return values[index]
    }
}

/// A compiled statement. Reset and rebind it to run it again.
public final class SQLiteStatement {
    private let database: SQLiteDatabase
    private let statement: OpaquePointer
    private let sql: String

    init(database: SQLiteDatabase, statement: OpaquePointer, sql: String) {
        self.database = database
        self.statement = statement
        self.sql = sql
    }

    deinit {
        sqlite3_finalize(statement)
    }

    /// Resets the statement and binds `values` to its parameters in order.
    public func bind(_ values: [SQLiteValue]) throws {
        sqlite3_reset(statement)
        for (offset, value) in values.enumerated() {
            try bind(value, at: Int32(offset + 1))
        }
    }

    /// Binds one value at a 1-based parameter index.
    public func bind(_ value: SQLiteValue, at index: Int32) throws {
        let rc: Int32
        switch value {
        case .null: rc = sqlite3_bind_null(statement, index)
        case .integer(let v): rc = sqlite3_bind_int64(statement, index, v)
        case .real(let v): rc = sqlite3_bind_double(statement, index, v)
        case .text(let v): rc = sqlite3_bind_text(statement, index, v, -1, csqlite_transient())
        }
        guard rc == SQLITE_OK else { throw failure(rc) }
    }

    /// Binds an integer; the fast path for bulk inserts.
    @inline(__always)
    public func bind(_ value: Int64, at index: Int32) {
        sqlite3_bind_int64(statement, index, value)
    }

    /// Binds static text that outlives the statement's next step; the fast path for bulk inserts.
    @inline(__always)
    public func bindText(_ value: String, at index: Int32) {
        sqlite3_bind_text(statement, index, value, -1, csqlite_transient())
    }

    /// Resets the statement so it can be stepped again with new bindings.
    @inline(__always)
    public func reset() {
        sqlite3_reset(statement)
    }

    /// Steps an insert or update to completion.
    public func execute() throws {
        let rc = sqlite3_step(statement)
        guard rc == SQLITE_DONE || rc == SQLITE_ROW else { throw failure(rc) }
        sqlite3_reset(statement)
    }

    /// Steps once: the next row, or nil when done.
    public func step() throws -> SQLiteRow? {
        let rc = sqlite3_step(statement)
        if rc == SQLITE_DONE { return nil }
        guard rc == SQLITE_ROW else { throw failure(rc) }
        let count = sqlite3_column_count(statement)
        var columns: [String] = []
        var values: [SQLiteValue] = []
        columns.reserveCapacity(Int(count))
        values.reserveCapacity(Int(count))
        for i in 0..<count {
            columns.append(String(cString: sqlite3_column_name(statement, i)))
            switch sqlite3_column_type(statement, i) {
            case SQLITE_INTEGER: values.append(.integer(sqlite3_column_int64(statement, i)))
            case SQLITE_FLOAT: values.append(.real(sqlite3_column_double(statement, i)))
            case SQLITE_NULL: values.append(.null)
            default: values.append(.text(String(cString: sqlite3_column_text(statement, i))))
            }
        }
        return SQLiteRow(columns: columns, values: values)
    }

    /// Steps once and reads columns by index without building a row: the fast path for bulk reads.
    /// Returns false when done.
    @inline(__always)
    public func stepRaw() throws -> Bool {
        let rc = sqlite3_step(statement)
        if rc == SQLITE_DONE { return false }
        guard rc == SQLITE_ROW else { throw failure(rc) }
        return true
    }

    /// Column `index` of the current row as an integer.
    @inline(__always)
    public func int64(at index: Int32) -> Int64 { sqlite3_column_int64(statement, index) }

    /// Column `index` of the current row as text (empty when NULL).
    public func text(at index: Int32) -> String {
        guard let pointer = sqlite3_column_text(statement, index) else { return "" }
        return String(cString: pointer)
    }

    private func failure(_ rc: Int32) -> StoreError {
        .sqlite(path: database.path, code: rc, message: database.lastErrorMessage, sql: sql)
    }
}
