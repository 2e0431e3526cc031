import AsyncPatterns

/// What one HTTP attempt produced at the transport level, before any policy decision.
public struct TransportResult: Sendable, Hashable {
    /// When the attempt was sent, in ns on the run clock.
    public var startNs: Int64
    /// When the response ended or the error was observed, in ns on the run clock.
    public var endNs: Int64
    /// The HTTP status code, or 0 when no response arrived.
    public var status: Int
    /// How the attempt ended: from the status when a response arrived, else the transport error class.
    public var errorClass: ErrorClass
    /// Response body bytes received.
    public var bytes: Int64
    /// The `Retry-After` header value, verbatim, if the server sent one.
    public var retryAfter: String?

    /// Creates a result.
    public init(
        startNs: Int64, endNs: Int64, status: Int, errorClass: ErrorClass, bytes: Int64, retryAfter: String? = nil
    ) {
        self.startNs = startNs
        self.endNs = endNs
        self.status = status
        self.errorClass = errorClass
        self.bytes = bytes
        self.retryAfter = retryAfter
    }
}
