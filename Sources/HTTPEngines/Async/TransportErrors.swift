import AsyncPatterns
import NIOCore
import NIOPosix

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Maps SwiftNIO's errors to the lab's error classes.
enum TransportErrors {
    /// The class of a connect, read or write error raised by SwiftNIO.
    static func classify(_ error: any Error) -> ErrorClass {
        if error is CancellationError { return .cancelled }
        if let error = error as? NIOConnectionError {
            let errnos = error.connectionErrors.compactMap { ($0.error as? IOError)?.errnoCode }
            if errnos.contains(ECONNREFUSED) { return .refused }
            if errnos.contains(ETIMEDOUT) { return .timeout }
            return .other
        }
        if let error = error as? IOError {
            switch error.errnoCode {
            case ECONNREFUSED: return .refused
            case ECONNRESET, EPIPE: return .reset
            case ETIMEDOUT: return .timeout
            default: return .other
            }
        }
        if let error = error as? ChannelError {
            switch error {
            case .connectTimeout: return .timeout
            case .eof, .ioOnClosedChannel, .alreadyClosed, .outputClosed, .inputClosed: return .reset
            default: return .other
            }
        }
        return .other
    }
}
