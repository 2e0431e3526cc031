import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// The fault-injecting mock HTTP server as a swift-service-lifecycle `Service`.
///
/// `run()` binds, calls `onListening` with the running server, and serves until graceful shutdown or
/// cancellation, then stops accepting, waits up to `shutdownGraceMs` for requests in service, and closes.
///
/// Endpoints (GET only; other methods get 405, unknown paths 404, bad path parameters 400):
/// - `/health`: 200 at once; never delayed, failed or capacity-limited.
/// - `/get`: JSON echo `{"args","headers","url"}`.
/// - `/status/{code}`: that status, 200...599.
/// - `/delay/{seconds}`: answers after that long (fractional, capped at 60 s); the latency model is not added.
/// - `/429`: 200 for the first `rateLimit.after` requests (per window), then 429 with `Retry-After`.
/// - `/500`: always 500.
/// - `/bytes/{n}`: n seeded bytes, capped at 1 MiB.
/// - `/contention/{key}` (GET, POST or PUT): an optimistic write; 409 if another write to the key committed
///   during this one's service time, else 200 with the new version.
/// - Admin (never counted, delayed or failed): `GET /__admin/counters`, `POST /__admin/reset`,
///   `GET` and `PUT /__admin/config`.
///
/// All but `/health` and admin requests go through the schedule, the error rate and the capacity model
/// (`capacity`: at most `limit` in service, the rest queued or answered 503 with the `Retry-After` of
/// `capacity.retryAfter`, none by default).
/// A request's identity is `X-Request-Id` (or `?request_id=`), its attempt `X-Attempt` (or `?attempt=`,
/// default 1); without an id the arrival number is used. Faults and latency draws are pure functions of
/// (seed, identity, attempt). Requests are served in order per connection; pipelining is supported.
public struct MockServer: Service {
    /// What the server does.
    public let configuration: MockServerConfiguration
    private let onListening: @Sendable (RunningMockServer) -> Void

    /// Creates the service; `onListening` is called once the port is bound. Throws `MockServerConfigurationError`.
    public init(
        configuration: MockServerConfiguration = .init(),
        onListening: @escaping @Sendable (RunningMockServer) -> Void = { _ in }
    ) throws(MockServerConfigurationError) {
        try configuration.validate()
        self.configuration = configuration
        self.onListening = onListening
    }

    /// Serves until graceful shutdown or task cancellation. Throws if the address cannot be bound.
    public func run() async throws {
        let server = try await MockServer.start(configuration)
        onListening(server)
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await server.waitUntilListenerClosed()
            } onGracefulShutdown: {
                server.stopAccepting()
            }
        } onCancel: {
            server.stopAccepting()
        }
        try await server.shutdown()
    }

    /// Binds and starts serving without a service group. Throws `MockServerConfigurationError` or `MockServerError`.
    public static func start(_ configuration: MockServerConfiguration = .init()) async throws -> RunningMockServer {
        try configuration.validate()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: configuration.eventLoops)
        let core = ServerCore(configuration: configuration)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 4096)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try Self.configurePipeline(channel.pipeline.syncOperations, core: core)
                }
            }
        do {
            let channel = try await bootstrap.bind(host: configuration.host, port: configuration.port).get()
            let port = channel.localAddress?.port ?? configuration.port
            core.recordBoundPort(port)
            return RunningMockServer(
                group: group, channel: channel, core: core, host: configuration.host, port: port,
                shutdownGraceMs: configuration.shutdownGraceMs)
        } catch {
            try? await group.shutdownGracefully()
            throw MockServerError.bind(host: configuration.host, port: configuration.port, underlying: error)
        }
    }

    static func configurePipeline(_ pipeline: ChannelPipeline.SynchronousOperations, core: ServerCore) throws {
        var limits = NIOHTTPDecoderLimitConfiguration()
        limits.maxHeaderFieldSize = HeadLimitHandler.limit
        limits.maxHeaderListSize = HeadLimitHandler.limit
        let headLimit = HeadLimitHandler(core: core)
        try pipeline.addHandler(headLimit)
        try pipeline.addHandler(
            ByteToMessageHandler(
                HTTPRequestDecoder(
                    leftOverBytesStrategy: .dropBytes, informationalResponseStrategy: .drop,
                    limitConfiguration: limits)))
        try pipeline.addHandler(HTTPConnectionHandler(core: core, headLimit: headLimit))
    }
}

/// Runs a mock server for the duration of `body`, which gets its base URL (e.g. `http://127.0.0.1:41234`, no
/// trailing slash). The server is shut down after `body`, even when it throws. Rethrows `body`'s error.
public func withMockServer<R: Sendable>(
    _ configuration: MockServerConfiguration = .init(), _ body: (_ baseURL: String) async throws -> R
) async throws -> R {
    let server = try await MockServer.start(configuration)
    let result: R
    do {
        result = try await body(server.baseURL)
    } catch {
        try? await server.shutdown()
        throw error
    }
    try await server.shutdown()
    return result
}
