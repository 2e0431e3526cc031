import AsyncPatterns
import NIOCore
import NIOPosix

/// A mock server that is serving; made by `MockServer.start(_:)`. Call `shutdown()` when done.
public final class RunningMockServer: Sendable {
    /// The bound address as configured, e.g. "127.0.0.1".
    public let host: String
    /// The bound port (the real one when 0 was configured).
    public let port: Int
    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel
    let core: ServerCore
    private let shutdownGraceMs: Int
    private let isShutDown = LockedBox(false)

    init(
        group: MultiThreadedEventLoopGroup, channel: any Channel, core: ServerCore, host: String, port: Int,
        shutdownGraceMs: Int
    ) {
        self.group = group
        self.channel = channel
        self.core = core
        self.host = host
        self.port = port
        self.shutdownGraceMs = shutdownGraceMs
    }

    /// The base URL, e.g. `http://127.0.0.1:41234`, without a trailing slash.
    public var baseURL: String {
        let printable = host.contains(":") ? "[\(host)]" : host
        return "http://\(printable):\(port)"
    }

    /// The counters, as `GET /__admin/counters` returns them.
    public func counters() -> MockServerCounters {
        core.counters()
    }

    /// Zeroes the counters, as `POST /__admin/reset` does.
    public func resetCounters() {
        core.reset()
    }

    /// The configuration in force.
    public var configuration: MockServerConfiguration {
        core.configuration
    }

    /// Applies the behavioural fields live, as `PUT /__admin/config` does, and restarts the schedule clock.
    /// Throws `MockServerConfigurationError` if a value is invalid.
    public func apply(_ configuration: MockServerConfiguration) throws(MockServerConfigurationError) {
        try configuration.validate()
        core.apply(configuration)
    }

    /// Stops accepting connections; connections already open keep being served until `shutdown()`.
    public func stopAccepting() {
        channel.close(promise: nil)
    }

    /// Waits until the listening socket is closed.
    public func waitUntilListenerClosed() async {
        try? await channel.closeFuture.get()
    }

    /// Stops accepting, waits up to the grace period for requests in service, then closes every connection
    /// and stops the event loops. Safe to call more than once. Throws if the event loops fail to stop.
    public func shutdown() async throws {
        let first = isShutDown.withLock { done in
            defer { done = true }
            return !done
        }
        guard first else { return }
        try? await channel.close()
        let deadline = ContinuousClock.now + .milliseconds(shutdownGraceMs)
        while core.busy > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
        try await group.shutdownGracefully()
    }
}

/// Like `withMockServer`, but `body` gets the running server (for counters and live configuration).
public func withRunningMockServer<R: Sendable>(
    _ configuration: MockServerConfiguration = .init(), _ body: (_ server: RunningMockServer) async throws -> R
) async throws -> R {
    let server = try await MockServer.start(configuration)
    let result: R
    do {
        result = try await body(server)
    } catch {
        try? await server.shutdown()
        throw error
    }
    try await server.shutdown()
    return result
}
