import NIOCore

/// Sits before the HTTP decoder and refuses a request line plus headers longer than 64 KiB with 431.
///
/// The decoder limits header fields itself, but not the request line. This counts the bytes received
/// since the last complete request head; `HTTPConnectionHandler` pauses the count while it reads a body.
final class HeadLimitHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// The largest request head accepted, 64 KiB.
    static let limit = 64 * 1024

    private let core: ServerCore
    /// Bytes received while waiting for a request head.
    private(set) var pendingBytes = 0
    private var counting = true
    private var tripped = false

    init(core: ServerCore) {
        self.core = core
    }

    /// A request head was decoded: stop counting until the request ends.
    func headReceived() {
        pendingBytes = 0
        counting = false
    }

    /// The request ended: count the bytes of the next head.
    func requestEnded() {
        counting = true
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if tripped { return }
        if counting {
            pendingBytes += unwrapInboundIn(data).readableBytes
            if pendingBytes > Self.limit {
                tripped = true
                let response = ResponseWriter.response(
                    allocator: context.channel.allocator, status: 431,
                    body: ResponseWriter.statusBody(431, "request line and headers are limited to 65536 bytes"),
                    keepAlive: false, http10: false)
                core.recordResponse(status: 431, serviceNanoseconds: 0, countRequest: true, releasesCapacity: false)
                context.writeAndFlush(wrapOutboundOut(response)).assumeIsolated().whenComplete { _ in
                    context.close(promise: nil)
                }
                return
            }
        }
        context.fireChannelRead(data)
    }
}
