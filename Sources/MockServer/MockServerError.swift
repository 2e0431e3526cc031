/// A mock server failure at run time (as opposed to a bad configuration).
public struct MockServerError: Error, Sendable, CustomStringConvertible {
    private enum Code: Sendable {
        case bind
    }

    private let code: Code
    private let detail: String

    /// The address could not be bound.
    static func bind(host: String, port: Int, underlying: any Error) -> MockServerError {
        MockServerError(
            code: .bind,
            detail: "cannot listen on \(host):\(port) (\(underlying)); choose a free port, or port 0 for any free one")
    }

    /// A short, bounded label for tables: `bind-failed`.
    public var label: String {
        switch code {
        case .bind: "bind-failed"
        }
    }

    /// What went wrong and how to fix it.
    public var description: String { detail }
}
