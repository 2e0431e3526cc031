import AsyncHTTPClient
import AsyncPatterns
import NIOCore
import NIOPosix

/// One AsyncHTTPClient whose pool allows `concurrency` HTTP/1 connections, sending the lab's GETs.
struct AsyncHTTPTransport: Sendable {
    let client: HTTPClient
    private let url: String
    private let clock: RunClock
    private let requestTimeout: TimeAmount
    private let naive: Bool

    /// Creates the client: pool soft limit = concurrency, connect and read timeouts, no connection retries
    /// (a refused connect fails the attempt), HTTP/1 only, no redirects. Naive mode uses each connection once.
    init(configuration: EngineConfiguration, clock: RunClock) {
        var settings = HTTPClient.Configuration()
        settings.httpVersion = .http1Only
        settings.redirectConfiguration = .disallow
        settings.timeout = .init(
            connect: .nanoseconds(RunClock.nanoseconds(configuration.connectTimeout)),
            read: .nanoseconds(RunClock.nanoseconds(configuration.requestTimeout)))
        settings.connectionPool = .init(
            idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: max(1, configuration.concurrency))
        settings.connectionPool.retryConnectionEstablishment = false
        if configuration.pooling == .naive {
            settings.maximumUsesPerConnection = 1
        }
        self.client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: settings)
        self.url = configuration.baseURL + configuration.path
        self.clock = clock
        self.requestTimeout = .nanoseconds(RunClock.nanoseconds(configuration.requestTimeout))
        self.naive = configuration.pooling == .naive
    }

    /// Sends one GET with `X-Request-Id` and `X-Attempt`, reads and counts the body, and never throws.
    func send(requestID: Int64, attempt: Int32) async -> TransportResult {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "X-Request-Id", value: String(requestID))
        request.headers.add(name: "X-Attempt", value: String(attempt))
        if naive { request.headers.add(name: "Connection", value: "close") }
        let startNs = clock.now()
        var status = 0
        var bytes: Int64 = 0
        var retryAfter: String?
        do {
            let response = try await client.execute(request, deadline: .now() + requestTimeout)
            status = Int(response.status.code)
            retryAfter = response.headers.first(name: "Retry-After")
            for try await chunk in response.body {
                bytes += Int64(chunk.readableBytes)
            }
            return TransportResult(
                startNs: startNs, endNs: clock.now(), status: status, errorClass: ErrorClass(status: status),
                bytes: bytes, retryAfter: retryAfter)
        } catch {
            return TransportResult(
                startNs: startNs, endNs: clock.now(), status: status, errorClass: Self.classify(error), bytes: bytes,
                retryAfter: retryAfter)
        }
    }

    /// Maps an AsyncHTTPClient error, or else a SwiftNIO one, to the lab's error classes.
    static func classify(_ error: any Error) -> ErrorClass {
        if error is CancellationError { return .cancelled }
        if let error = error as? HTTPClientError {
            switch error {
            case .connectTimeout, .deadlineExceeded, .readTimeout, .writeTimeout, .getConnectionFromPoolTimeout:
                return .timeout
            case .remoteConnectionClosed: return .reset
            case .cancelled: return .cancelled
            default: return .other
            }
        }
        return TransportErrors.classify(error)
    }
}
