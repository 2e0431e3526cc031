import AsyncPatterns
import NIOCore
import NIOHTTP1

/// What one request/response exchange on a connection produced.
struct ExchangeResult: Sendable {
    /// The HTTP status, or 0 when no response head arrived.
    var status = 0
    /// Response body bytes received.
    var bytes: Int64 = 0
    /// The `Retry-After` header value, if any.
    var retryAfter: String?
    /// `.ok`, the status's class, or the transport error's class.
    var errorClass = ErrorClass.ok
    /// Whether the connection may carry another request.
    var reusable = false
}

/// The last handler of a client connection's pipeline: sends one request at a time and resumes its waiter exactly
/// once, with the response, a timeout, a reset or a cancellation. Lives on the channel's event loop only.
final class HTTPExchangeHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private var context: ChannelHandlerContext?
    private var waiter: CheckedContinuation<ExchangeResult, Never>?
    /// When the exchange in flight times out.
    private var deadline = NIODeadline.distantFuture
    /// One timer per connection, not per request: it is left running when an exchange ends, and when it fires it
    /// either times out the exchange in flight or re-arms itself for that exchange's deadline.
    private var timer: Scheduled<Void>?
    private var timerDeadline = NIODeadline.distantFuture
    private var result = ExchangeResult()
    private var isClosed = false

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    /// Writes `head` and resumes `waiter` when the response ends, `timeout` passes, or the connection fails.
    func start(_ head: HTTPRequestHead, timeout: TimeAmount, waiter: CheckedContinuation<ExchangeResult, Never>) {
        guard let context, !isClosed, self.waiter == nil else {
            waiter.resume(returning: ExchangeResult(errorClass: .reset))
            return
        }
        self.waiter = waiter
        result = ExchangeResult()
        deadline = .now() + timeout
        if timer == nil || timerDeadline > deadline { armTimer(context.eventLoop) }
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    /// Ends the exchange in flight as `.cancelled` and closes the connection.
    func cancel() {
        fail(.cancelled)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            result.status = Int(head.status.code)
            result.retryAfter = head.headers.first(name: "retry-after")
            result.reusable = head.isKeepAlive
        case .body(let body):
            result.bytes += Int64(body.readableBytes)
        case .end:
            guard let waiter else { return }
            self.waiter = nil
            result.errorClass = ErrorClass(status: result.status)
            if !result.reusable { close() }
            waiter.resume(returning: result)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(TransportErrors.classify(error))
    }

    func channelInactive(context: ChannelHandlerContext) {
        isClosed = true
        fail(.reset)
        context.fireChannelInactive()
    }

    /// Resumes the waiter, if any, with `errorClass` (keeping a status that already arrived) and closes.
    private func fail(_ errorClass: ErrorClass) {
        let waiter = self.waiter
        self.waiter = nil
        close()
        guard let waiter else { return }
        result.errorClass = errorClass
        result.reusable = false
        waiter.resume(returning: result)
    }

    private func close() {
        timer?.cancel()
        timer = nil
        guard !isClosed else { return }
        isClosed = true
        context?.close(promise: nil)
    }

    private func armTimer(_ eventLoop: any EventLoop) {
        timer?.cancel()
        timerDeadline = deadline
        timer = eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            timer = nil
            guard waiter != nil else { return }
            if NIODeadline.now() >= deadline {
                fail(.timeout)
            } else {
                armTimer(eventLoop)
            }
        }
    }
}
