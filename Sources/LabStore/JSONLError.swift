import Foundation

/// Errors from writing or reading JSON Lines files. Each names the file and says how to fix it.
public struct JSONLError: Error, CustomStringConvertible, Sendable {
    private enum Code: Sendable {
        case cannotOpen
        case writeFailed
        case closed
        case badLine
    }

    private let code: Code
    /// The full message shown to the user.
    public let description: String

    /// A short, bounded label for logs and tables.
    public var label: String {
        switch code {
        case .cannotOpen: "jsonl_cannot_open"
        case .writeFailed: "jsonl_write_failed"
        case .closed: "jsonl_closed"
        case .badLine: "jsonl_bad_line"
        }
    }

    static func cannotOpen(path: String, errno code: Int32) -> JSONLError {
        JSONLError(
            code: .cannotOpen,
            description: "\(path): cannot open the JSONL file (\(String(cString: strerror(code)))). "
                + "Check that the folder exists and is writable, or use another path.")
    }

    static func writeFailed(path: String, errno code: Int32) -> JSONLError {
        JSONLError(
            code: .writeFailed,
            description: "\(path): writing the JSONL file failed (\(String(cString: strerror(code)))). "
                + "Check free disk space and permissions.")
    }

    static func closed(path: String) -> JSONLError {
        JSONLError(
            code: .closed, description: "\(path): the JSONL writer is closed. Open a new JSONLWriter to write again.")
    }

    static func badLine(path: String, line: Int, reason: String) -> JSONLError {
        JSONLError(
            code: .badLine,
            description: "\(path):\(line): not a valid async-patterns JSONL record (\(reason)). "
                + "The file was not written by JSONLWriter, or was edited.")
    }
}
