import AsyncPatterns
import Foundation
import NIOCore
import NIOHTTP1

/// Serves one connection: routes requests, injects latency and faults, and writes raw HTTP/1.1 responses.
///
/// Requests on a connection are served one at a time, in order: while one is in service, reads are held
/// back and pipelined requests wait.
final class HTTPConnectionHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum State {
        case idle
        case receiving
        case processing
        case closed
    }

    /// The largest request body kept (for `PUT /__admin/config`), 1 MiB; others are discarded.
    static let maximumBody = 1 << 20

    private let core: ServerCore
    private let headLimit: HeadLimitHandler
    private var state = State.idle
    private var head: HTTPRequestHead?
    private var start = NIODeadline.uptimeNanoseconds(0)
    private var body: ByteBuffer?
    private var bodyTooLarge = false
    private var pending: [HTTPServerRequestPart] = []
    private var readDeferred = false
    private var requestTimeout: Scheduled<Void>?

    init(core: ServerCore, headLimit: HeadLimitHandler) {
        self.core = core
        self.headLimit = headLimit
    }

    // MARK: Channel events

    func channelActive(context: ChannelHandlerContext) {
        core.connectionAccepted()
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        state = .closed
        requestTimeout?.cancel()
        requestTimeout = nil
        pending.removeAll()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        switch state {
        case .processing:
            pending.append(part)
        case .closed:
            break
        case .idle, .receiving:
            handle(part, context: context)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        let partial = state == .receiving || (state == .idle && headLimit.pendingBytes > 0)
        if partial && requestTimeout == nil {
            let timeoutMs = core.configuration.requestTimeoutMs
            requestTimeout = context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(Int64(timeoutMs))) {
                self.requestTimedOut(context: context)
            }
        }
        context.fireChannelReadComplete()
    }

    func read(context: ChannelHandlerContext) {
        if state == .processing {
            readDeferred = true
        } else {
            context.read()
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard state != .closed else { return }
        if state == .processing {
            // A response is on its way; the connection cannot be trusted for more.
            state = .closed
            context.close(promise: nil)
            return
        }
        let status: Int
        let message: String
        if let parserError = error as? HTTPParserError {
            if parserError == .headerOverflow {
                status = 431
                message = "request headers are limited to 65536 bytes"
            } else {
                status = 400
                message = "malformed HTTP request: \(parserError)"
            }
        } else {
            state = .closed
            context.close(promise: nil)
            return
        }
        sendAndClose(context: context, status: status, message: message)
    }

    // MARK: Request assembly

    private func handle(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        switch part {
        case .head(let head):
            self.head = head
            start = .now()
            body = nil
            bodyTooLarge = false
            state = .receiving
            headLimit.headReceived()
            if head.method != .GET, head.headers.first(name: "Expect")?.lowercased() == "100-continue" {
                context.writeAndFlush(wrapOutboundOut(ResponseWriter.continueResponse), promise: nil)
            }
        case .body(var chunk):
            guard state == .receiving, let head else { return }
            if head.method == .PUT && head.uri.hasPrefix("/__admin/") {
                if (body?.readableBytes ?? 0) + chunk.readableBytes > Self.maximumBody {
                    bodyTooLarge = true
                } else if body == nil {
                    body = chunk
                } else {
                    body!.writeBuffer(&chunk)
                }
            }
        case .end:
            guard state == .receiving, let head else { return }
            requestTimeout?.cancel()
            requestTimeout = nil
            headLimit.requestEnded()
            state = .processing
            dispatch(head: head, context: context)
        }
    }

    private func requestTimedOut(context: ChannelHandlerContext) {
        requestTimeout = nil
        guard state == .receiving || state == .idle else { return }
        sendAndClose(context: context, status: 408, message: "request not received in time")
    }

    /// Answers an unusable request and closes the connection.
    private func sendAndClose(context: ChannelHandlerContext, status: Int, message: String) {
        state = .closed
        requestTimeout?.cancel()
        requestTimeout = nil
        let response = ResponseWriter.response(
            allocator: context.channel.allocator, status: status, body: ResponseWriter.statusBody(status, message),
            keepAlive: false, http10: false)
        core.recordResponse(status: status, serviceNanoseconds: 0, countRequest: true, releasesCapacity: false)
        context.writeAndFlush(wrapOutboundOut(response)).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    // MARK: Responses

    private func elapsedNanoseconds() -> UInt64 {
        let now = NIODeadline.now().uptimeNanoseconds
        return now > start.uptimeNanoseconds ? now - start.uptimeNanoseconds : 0
    }

    /// Writes a finished response, then serves the next pipelined request or closes.
    private func send(_ buffer: ByteBuffer, keepAlive: Bool, context: ChannelHandlerContext) {
        guard state == .processing else { return }
        if keepAlive {
            context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
            state = .idle
            head = nil
            body = nil
            // Pipelined parts wait in `pending`; serve them until one request is in service again.
            while state == .idle || state == .receiving, !pending.isEmpty {
                handle(pending.removeFirst(), context: context)
            }
            if state != .processing, readDeferred {
                readDeferred = false
                context.read()
            }
        } else {
            state = .closed
            context.writeAndFlush(wrapOutboundOut(buffer)).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
        }
    }

    private func sendText(
        _ status: Int, _ body: String, contentType: String? = "application/json", head: HTTPRequestHead,
        extraHeaders: [(String, String)] = [], context: ChannelHandlerContext
    ) -> Void {
        let keepAlive = head.isKeepAlive
        let buffer = ResponseWriter.response(
            allocator: context.channel.allocator, status: status, contentType: contentType, body: body,
            keepAlive: keepAlive, http10: head.version.minor == 0, extraHeaders: extraHeaders)
        send(buffer, keepAlive: keepAlive, context: context)
    }

    // MARK: Routing

    private func dispatch(head: HTTPRequestHead, context: ChannelHandlerContext) {
        // The hot path: a plain keep-alive HTTP/1.1 GET /health.
        if head.uri == "/health", head.method == .GET, head.version == .http1_1, head.isKeepAlive {
            core.recordResponse(
                status: 200, serviceNanoseconds: elapsedNanoseconds(), countRequest: true, releasesCapacity: false)
            send(ResponseWriter.healthResponse, keepAlive: true, context: context)
            return
        }
        let (path, query) = RequestTarget.split(head.uri)
        let route = Route.parse(method: head.method, path: path)
        switch route {
        case .health:
            core.recordResponse(
                status: 200, serviceNanoseconds: elapsedNanoseconds(), countRequest: true, releasesCapacity: false)
            sendText(200, ResponseWriter.healthBody, head: head, context: context)
        case .notFound:
            answerUnscheduled(404, "no such endpoint: \(path)", head: head, context: context)
        case .methodNotAllowed(let allow):
            let status = 405
            core.recordResponse(
                status: status, serviceNanoseconds: elapsedNanoseconds(), countRequest: true, releasesCapacity: false)
            sendText(
                status, ResponseWriter.statusBody(status, "method \(head.method) not allowed; allowed: \(allow)"),
                head: head, extraHeaders: [("Allow", allow)], context: context)
        case .badParameter(let message):
            answerUnscheduled(400, message, head: head, context: context)
        case .adminCounters, .adminReset, .adminConfig, .adminConfigRead:
            serveAdmin(route, head: head, context: context)
        case .get, .status, .delay, .rateLimited, .fail500, .bytes, .contention:
            admit(route, head: head, query: query, context: context)
        }
    }

    private func answerUnscheduled(
        _ status: Int, _ message: String, head: HTTPRequestHead, context: ChannelHandlerContext
    ) {
        core.recordResponse(
            status: status, serviceNanoseconds: elapsedNanoseconds(), countRequest: true, releasesCapacity: false)
        sendText(status, ResponseWriter.statusBody(status, message), head: head, context: context)
    }

    private func serveAdmin(_ route: Route, head: HTTPRequestHead, context: ChannelHandlerContext) {
        switch route {
        case .adminCounters:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let data = (try? encoder.encode(core.counters())) ?? Data("{}".utf8)
            sendText(200, String(decoding: data, as: UTF8.self), head: head, context: context)
        case .adminReset:
            core.reset()
            sendText(204, "", head: head, context: context)
        case .adminConfigRead:
            sendText(200, core.configuration.jsonString(), head: head, context: context)
        case .adminConfig:
            if bodyTooLarge {
                sendText(
                    413, ResponseWriter.statusBody(413, "configuration body over 1 MiB"), head: head, context: context)
                return
            }
            let bytes = body.map { Array($0.readableBytesView) } ?? []
            do {
                let configuration = try MockServerConfiguration.decode(json: bytes, source: "PUT /__admin/config body")
                core.apply(configuration)
                sendText(200, core.configuration.jsonString(), head: head, context: context)
            } catch {
                sendText(400, ResponseWriter.statusBody(400, error.description), head: head, context: context)
            }
        default:
            answerUnscheduled(404, "no such admin endpoint", head: head, context: context)
        }
    }

    // MARK: Scheduled endpoints

    /// A request admitted under the settings, waiting for its latency to pass.
    private struct Work {
        var route: Route
        var head: HTTPRequestHead
        var query: Substring
        var plan: RequestPlan
    }

    private var queuedWork: Work?

    private func admit(_ route: Route, head: HTTPRequestHead, query: Substring, context: ChannelHandlerContext) {
        let plan = core.admit(
            now: start, isRateLimitEndpoint: route == .rateLimited, usesCapacity: true,
            waiter: { self.makeWaiter(context: context) })
        let work = Work(route: route, head: head, query: query, plan: plan)
        switch plan.admission {
        case .start:
            serve(work, context: context)
        case .queued:
            queuedWork = work
        case .rejected:
            let status = 503
            core.recordResponse(
                status: status, serviceNanoseconds: elapsedNanoseconds(), fault: ServerCore.overloadFaultIndex,
                countRequest: false, releasesCapacity: false)
            var extraHeaders: [(String, String)] = []
            if let range = core.configuration.capacity.retryAfter.secondsRange {
                let (idHash, attempt) = Self.identity(head: head, query: query, arrival: plan.arrival)
                let seconds = MockServer.retryAfterSeconds(
                    seed: plan.seed, idHash: idHash, attempt: attempt, range: range)
                extraHeaders.append(("Retry-After", String(seconds)))
            }
            sendText(
                status, ResponseWriter.statusBody(status, "over capacity"), head: head, extraHeaders: extraHeaders,
                context: context)
        }
    }

    /// A request's identity hash (`X-Request-Id` or `?request_id=`, else its arrival number) and its attempt
    /// (`X-Attempt` or `?attempt=`, default 1): what its fault, latency and `Retry-After` draws are keyed by.
    private static func identity(head: HTTPRequestHead, query: Substring, arrival: UInt64) -> (UInt64, Int) {
        let idHash: UInt64
        if let id = head.headers.first(name: "X-Request-Id") ?? RequestTarget.parameter("request_id", in: query) {
            idHash = StableHash.hash(id)
        } else {
            idHash = MockServer.arrivalHash(arrival)
        }
        let attemptText = head.headers.first(name: "X-Attempt") ?? RequestTarget.parameter("attempt", in: query)
        return (idHash, attemptText.flatMap(Self.parseAttempt) ?? 1)
    }

    private func makeWaiter(context: ChannelHandlerContext) -> CapacityWaiter {
        let loop = context.eventLoop
        let bound = NIOLoopBound((self, context), eventLoop: loop)
        return CapacityWaiter {
            loop.execute {
                let (handler, context) = bound.value
                handler.resumeQueued(context: context)
            }
        }
    }

    private func resumeQueued(context: ChannelHandlerContext) {
        guard let work = queuedWork else { return }
        queuedWork = nil
        serve(work, context: context)
    }

    private func serve(_ work: Work, context: ChannelHandlerContext) {
        let head = work.head
        let plan = work.plan
        let (idHash, attempt) = Self.identity(head: head, query: work.query, arrival: plan.arrival)

        var fault: MockServerConfiguration.FaultKind?
        if plan.errorRate > 0,
            MockServer.failureUnit(seed: plan.seed, idHash: idHash, attempt: attempt) < plan.errorRate
        {
            fault = MockServer.faultKind(seed: plan.seed, idHash: idHash, attempt: attempt, mix: plan.faults)
        }

        var delay: Int64
        if case .delay(let nanoseconds) = work.route {
            delay = nanoseconds
        } else {
            var generator = MockServer.latencyGenerator(seed: plan.seed, idHash: idHash, attempt: attempt)
            delay = plan.latency.sampleNanoseconds(using: &generator)
        }

        switch fault {
        case .hang:
            // Never answer; the connection stays open until the client gives up or the server stops.
            core.recordSilentFault(.hang, releasesCapacity: true)
            return
        case .reset:
            core.recordSilentFault(.reset, releasesCapacity: true)
            resetConnection(context: context)
            return
        case .spike:
            delay += Int64(plan.spikeMs * 1_000_000)
        default:
            break
        }

        var seenVersion: UInt64 = 0
        if case .contention(let key) = work.route, fault == nil || fault == .spike {
            seenVersion = core.contentionVersion(key)
        }

        let finish = {
            self.finish(
                work, fault: fault, idHash: idHash, attempt: attempt, seenVersion: seenVersion, context: context)
        }
        if delay <= 0 {
            finish()
        } else {
            context.eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(delay), finish)
        }
    }

    private func resetConnection(context: ChannelHandlerContext) {
        state = .closed
        guard let provider = context.channel as? any SocketOptionProvider else {
            context.close(promise: nil)
            return
        }
        // SO_LINGER with a zero timeout makes close() send RST instead of FIN.
        provider.setSoLinger(linger(l_onoff: 1, l_linger: 0)).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    private func finish(
        _ work: Work, fault: MockServerConfiguration.FaultKind?, idHash: UInt64, attempt: Int, seenVersion: UInt64,
        context: ChannelHandlerContext
    ) {
        let head = work.head
        let plan = work.plan
        var status = 200
        var contentType: String? = "application/json"
        var text = ""
        var extraHeaders: [(String, String)] = []
        var binary: ByteBuffer?

        func retryAfter() -> (String, String) {
            let seconds = MockServer.retryAfterSeconds(
                seed: plan.seed, idHash: idHash, attempt: attempt,
                range: plan.rateLimit.retryAfterMinSeconds...plan.rateLimit.retryAfterMaxSeconds)
            return ("Retry-After", String(seconds))
        }

        switch fault {
        case .status500:
            status = 500
            text = ResponseWriter.statusBody(status, "injected fault")
        case .status503:
            status = 503
            text = ResponseWriter.statusBody(status, "injected fault")
        case .status429:
            status = 429
            text = ResponseWriter.statusBody(status, "injected fault")
            extraHeaders.append(retryAfter())
        case .spike, .none, .reset, .hang:
            switch work.route {
            case .get:
                text = Self.echo(head: head, query: work.query)
            case .status(let code):
                status = code
                text = code == 204 || code == 304 ? "" : ResponseWriter.statusBody(code, "status \(code) as requested")
            case .delay(let nanoseconds):
                text = #"{"delay":\#(Double(nanoseconds) / 1e9)}"#
            case .rateLimited:
                if plan.rateLimited {
                    status = 429
                    text = ResponseWriter.statusBody(status, "rate limit of \(plan.rateLimit.after) requests exceeded")
                    extraHeaders.append(retryAfter())
                } else {
                    text = #"{"status":"ok"}"#
                }
            case .fail500:
                status = 500
                text = ResponseWriter.statusBody(status, "always fails")
            case .bytes(let count):
                contentType = "application/octet-stream"
                binary = Self.seededBytes(count, seed: plan.seed, allocator: context.channel.allocator)
            case .contention(let key):
                switch core.contentionCommit(key, seen: seenVersion) {
                case true?:
                    text = #"{"key":\#(JSONString.quoted(key)),"version":\#(seenVersion + 1)}"#
                case false?:
                    status = 409
                    text = ResponseWriter.statusBody(status, "write conflict on key '\(key)'")
                case nil:
                    status = 400
                    text = ResponseWriter.statusBody(
                        status,
                        "too many contention keys (\(ServerCore.maximumContentionKeys)); POST /__admin/reset clears them"
                    )
                }
            default:
                status = 500
                text = ResponseWriter.statusBody(status, "unroutable")
            }
        }

        // Counted before the write, so that a client that has its answer always finds it in the counters.
        let faultIndex = fault.flatMap { MockServerConfiguration.FaultKind.allCases.firstIndex(of: $0) }
        core.recordResponse(
            status: status, serviceNanoseconds: elapsedNanoseconds(), fault: faultIndex, countRequest: false,
            releasesCapacity: true)
        if state == .processing {
            if var binary {
                let keepAlive = head.isKeepAlive
                var buffer = context.channel.allocator.buffer(capacity: 160 + binary.readableBytes)
                ResponseWriter.writeHead(
                    into: &buffer, status: status, contentType: contentType, contentLength: binary.readableBytes,
                    keepAlive: keepAlive, http10: head.version.minor == 0)
                buffer.writeBuffer(&binary)
                send(buffer, keepAlive: keepAlive, context: context)
            } else {
                sendText(
                    status, text, contentType: contentType, head: head, extraHeaders: extraHeaders, context: context)
            }
        }
    }

    /// The `/get` echo: `{"args":{...},"headers":{...},"url":"..."}`.
    private static func echo(head: HTTPRequestHead, query: Substring) -> String {
        let headers = head.headers.map { ($0.name, $0.value) }
        var out = ""
        out.reserveCapacity(
            64 + 2 * head.uri.utf8.count + headers.reduce(0) { $0 + $1.0.utf8.count + $1.1.utf8.count + 6 })
        out.append(#"{"args":"#)
        JSON.appendObject(RequestTarget.parameters(query), to: &out)
        out.append(#","headers":"#)
        JSON.appendObject(headers, to: &out)
        out.append(#","url":"#)
        let host = head.headers.first(name: "Host") ?? "localhost"
        JSONString.appendQuoted("http://" + host + head.uri, to: &out)
        out.append("}")
        return out
    }

    /// An attempt number from a header or query value, surrounding spaces allowed.
    private static func parseAttempt(_ text: String) -> Int? {
        if let value = Int(text) { return value }
        let trimmed = text.utf8.drop { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
        let end = trimmed.lastIndex { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") }
        guard let end else { return nil }
        return Int(String(decoding: trimmed[...end], as: UTF8.self))
    }

    /// `count` bytes from a generator seeded by (seed, count): the same bytes every time.
    private static func seededBytes(_ count: Int, seed: UInt64, allocator: ByteBufferAllocator) -> ByteBuffer {
        var generator = SplitMix64(seed: StableHash.combine(seed, UInt64(count)))
        var buffer = allocator.buffer(capacity: count)
        var remaining = count
        while remaining >= 8 {
            buffer.writeInteger(generator.next(), endianness: .little)
            remaining -= 8
        }
        if remaining > 0 {
            var last = generator.next()
            for _ in 0..<remaining {
                buffer.writeInteger(UInt8(truncatingIfNeeded: last))
                last >>= 8
            }
        }
        return buffer
    }
}
