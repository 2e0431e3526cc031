import AsyncPatterns
import NIOCore
import NIOHTTP1
import NIOPosix

/// One HTTP/1.1 connection and the handler that runs its exchanges.
struct HTTPConnection: Sendable {
    let channel: any Channel
    let handler: NIOLoopBound<HTTPExchangeHandler>

    /// Sends `head` and waits for the response, at most `timeout`. Cancelling the task ends it as `.cancelled`.
    func exchange(_ head: HTTPRequestHead, timeout: TimeAmount) async -> ExchangeResult {
        if Task.isCancelled { return ExchangeResult(errorClass: .cancelled) }
        let loop = channel.eventLoop
        return await withTaskCancellationHandler {
            await withCheckedContinuation { waiter in
                if loop.inEventLoop {
                    handler.value.start(head, timeout: timeout, waiter: waiter)
                } else {
                    loop.execute { handler.value.start(head, timeout: timeout, waiter: waiter) }
                }
            }
        } onCancel: {
            loop.execute { handler.value.cancel() }
        }
    }

    func close() {
        channel.close(promise: nil)
    }
}

/// The connection of one async worker: opened on first use, kept while the server keeps it alive (pooled), or
/// opened for every request (naive). Used by one task at a time.
final class HTTPConnectionSlot {
    private let target: HTTPTarget
    private let eventLoop: any EventLoop
    private let clock: RunClock
    private let connectTimeout: TimeAmount
    private let requestTimeoutNs: Int64
    private let naive: Bool
    private var connection: HTTPConnection?

    init(
        target: HTTPTarget, eventLoop: any EventLoop, clock: RunClock, connectTimeout: Duration,
        requestTimeout: Duration, naive: Bool
    ) {
        self.target = target
        self.eventLoop = eventLoop
        self.clock = clock
        self.connectTimeout = .nanoseconds(RunClock.nanoseconds(connectTimeout))
        self.requestTimeoutNs = RunClock.nanoseconds(requestTimeout)
        self.naive = naive
    }

    /// Sends one GET with `X-Request-Id` and `X-Attempt`, connecting first when needed, and never throws. The
    /// request timeout covers the connect and the exchange; the connect also has its own timeout.
    func send(requestID: Int64, attempt: Int32) async -> TransportResult {
        let startNs = clock.now()
        let connection: HTTPConnection
        if let open = self.connection, open.channel.isActive {
            connection = open
        } else {
            self.connection = nil
            do {
                connection = try await connect()
            } catch {
                let errorClass = Task.isCancelled ? ErrorClass.cancelled : TransportErrors.classify(error)
                return TransportResult(
                    startNs: startNs, endNs: clock.now(), status: 0, errorClass: errorClass, bytes: 0)
            }
            self.connection = connection
        }
        let remainingNs = max(1_000_000, requestTimeoutNs - (clock.now() - startNs))
        let result = await connection.exchange(
            head(requestID: requestID, attempt: attempt), timeout: .nanoseconds(remainingNs))
        if naive || !result.reusable {
            connection.close()
            self.connection = nil
        }
        return TransportResult(
            startNs: startNs, endNs: clock.now(), status: result.status, errorClass: result.errorClass,
            bytes: result.bytes, retryAfter: result.retryAfter)
    }

    /// Closes the connection, if open.
    func close() {
        connection?.close()
        connection = nil
    }

    private func head(requestID: Int64, attempt: Int32) -> HTTPRequestHead {
        var headers = HTTPHeaders()
        headers.reserveCapacity(4)
        headers.add(name: "Host", value: target.hostHeader)
        headers.add(name: "X-Request-Id", value: String(requestID))
        headers.add(name: "X-Attempt", value: String(attempt))
        if naive { headers.add(name: "Connection", value: "close") }
        return HTTPRequestHead(version: .http1_1, method: .GET, uri: target.path, headers: headers)
    }

    private func connect() async throws -> HTTPConnection {
        let channel = try await ClientBootstrap(group: eventLoop)
            .connectTimeout(connectTimeout)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(HTTPExchangeHandler())
                }
            }
            .connect(to: target.address).get()
        let handler = try await channel.eventLoop.submit {
            NIOLoopBound(
                try channel.pipeline.syncOperations.handler(type: HTTPExchangeHandler.self),
                eventLoop: channel.eventLoop)
        }.get()
        return HTTPConnection(channel: channel, handler: handler)
    }
}
