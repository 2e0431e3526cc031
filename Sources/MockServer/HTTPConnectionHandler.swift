import AsyncPatterns
import Foundation
import NIOCore
import NIOHTTP1

/// Serves one connection: feeds channel events to its `StateMachine`, asks `ResponsePlanner` what to answer, and
/// carries out both (writes, timers, closes, the shared `ServerCore`).
///
/// Requests on a connection are served one at a time, in order: while one is in service, reads are held back and
/// pipelined requests wait.
final class HTTPConnectionHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// An admitted request, waiting for capacity or for its delay to pass.
    private struct Work {
        var route: Route
        var head: HTTPRequestHead
        var query: Substring
        var keepAlive: Bool
        var plan: RequestPlan
    }

    private let core: ServerCore
    private let headLimit: HeadLimitHandler
    private var machine = StateMachine()
    /// When the request in service started (its head arrived).
    private var start = NIODeadline.uptimeNanoseconds(0)
    private var requestTimeout: Scheduled<Void>?
    private var queuedWork: Work?

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
        machine.channelInactive()
        cancelRequestTimeout()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        perform(machine.partReceived(unwrapInboundIn(data)), context: context)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        perform(machine.readComplete(headBytesPending: headLimit.pendingBytes > 0), context: context)
        context.fireChannelReadComplete()
    }

    func read(context: ChannelHandlerContext) {
        perform(machine.readRequested(), context: context)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        perform(machine.errorCaught(error), context: context)
    }

    // MARK: Actions

    private func perform(_ action: StateMachine.Action, context: ChannelHandlerContext) {
        switch action {
        case .wait:
            break
        case .startRequest(let sendContinue):
            start = .now()
            headLimit.headReceived()
            if sendContinue {
                context.writeAndFlush(wrapOutboundOut(ResponseWriter.continueResponse), promise: nil)
            }
        case .serve(let request):
            cancelRequestTimeout()
            headLimit.requestEnded()
            serve(request, context: context)
        case .startTimer:
            let timeoutMs = core.configuration.requestTimeoutMs
            requestTimeout = context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(Int64(timeoutMs))) {
                self.requestTimeout = nil
                self.perform(self.machine.timerFired(), context: context)
            }
        case .read:
            context.read()
        case .refuse(let status, let message):
            cancelRequestTimeout()
            let response = ResponseWriter.response(
                allocator: context.channel.allocator, status: status, body: ResponseWriter.statusBody(status, message),
                keepAlive: false, http10: false)
            core.recordResponse(status: status, serviceNanoseconds: 0, countRequest: true, releasesCapacity: false)
            writeAndClose(response, context: context)
        case .close:
            context.close(promise: nil)
        }
    }

    private func cancelRequestTimeout() {
        requestTimeout?.cancel()
        requestTimeout = nil
    }

    private func writeAndClose(_ buffer: ByteBuffer, context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(buffer)).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    /// Writes the response of the request in service, then serves what waited behind it, or closes.
    private func respond(_ buffer: ByteBuffer, context: ChannelHandlerContext) {
        switch machine.responseReady() {
        case .write:
            context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
            while let action = machine.nextPendingAction() {
                perform(action, context: context)
            }
        case .writeAndClose:
            writeAndClose(buffer, context: context)
        case .drop:
            break
        }
    }

    private func respond(
        _ response: PlannedResponse, head: HTTPRequestHead, keepAlive: Bool, context: ChannelHandlerContext
    ) {
        guard machine.isProcessing else { return }
        let buffer = response.encoded(
            allocator: context.channel.allocator, keepAlive: keepAlive, http10: head.version.minor == 0)
        respond(buffer, context: context)
    }

    private func elapsedNanoseconds() -> UInt64 {
        let now = NIODeadline.now().uptimeNanoseconds
        return now > start.uptimeNanoseconds ? now - start.uptimeNanoseconds : 0
    }

    // MARK: Routing

    private func serve(_ request: AssembledRequest, context: ChannelHandlerContext) {
        let head = request.head
        // The hot path: a plain keep-alive HTTP/1.1 GET /health.
        if head.uri == "/health", head.method == .GET, head.version == .http1_1, request.keepAlive {
            core.recordResponse(
                status: 200, serviceNanoseconds: elapsedNanoseconds(), countRequest: true, releasesCapacity: false)
            respond(ResponseWriter.healthResponse, context: context)
            return
        }
        let (path, query) = RequestTarget.split(head.uri)
        let route = Route.parse(method: head.method, path: path)
        if route.isScheduled {
            admit(route, head: head, query: query, keepAlive: request.keepAlive, context: context)
        } else if route.isAdmin {
            // Admin requests are never counted.
            respond(serveAdmin(route, request: request), head: head, keepAlive: request.keepAlive, context: context)
        } else {
            let response =
                ResponsePlanner.unscheduled(route, method: head.method, path: path)
                ?? .status(500, "unroutable")
            core.recordResponse(
                status: response.status, serviceNanoseconds: elapsedNanoseconds(), countRequest: true,
                releasesCapacity: false)
            respond(response, head: head, keepAlive: request.keepAlive, context: context)
        }
    }

    private func serveAdmin(_ route: Route, request: AssembledRequest) -> PlannedResponse {
        switch route {
        case .adminCounters:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let data = (try? encoder.encode(core.counters())) ?? Data("{}".utf8)
            return PlannedResponse(status: 200, body: .text(String(decoding: data, as: UTF8.self)))
        case .adminReset:
            core.reset()
            return PlannedResponse(status: 204, body: .text(""))
        case .adminConfigRead:
            return PlannedResponse(status: 200, body: .text(core.configuration.jsonString()))
        case .adminConfig:
            if request.bodyTooLarge {
                return .status(413, "configuration body over 1 MiB")
            }
            let bytes = request.body.map { Array($0.readableBytesView) } ?? []
            do {
                let configuration = try MockServerConfiguration.decode(json: bytes, source: "PUT /__admin/config body")
                core.apply(configuration)
                return PlannedResponse(status: 200, body: .text(core.configuration.jsonString()))
            } catch {
                return .status(400, error.description)
            }
        default:
            return .status(404, "no such admin endpoint")
        }
    }

    // MARK: Admitted requests

    private func admit(
        _ route: Route, head: HTTPRequestHead, query: Substring, keepAlive: Bool, context: ChannelHandlerContext
    ) {
        let plan = core.admit(
            now: start, isRateLimitEndpoint: route == .rateLimited, usesCapacity: true,
            waiter: { self.makeWaiter(context: context) })
        let work = Work(route: route, head: head, query: query, keepAlive: keepAlive, plan: plan)
        switch plan.admission {
        case .start:
            startService(work, context: context)
        case .queued:
            queuedWork = work
        case .rejected:
            let response = ResponsePlanner.overCapacity(
                head: work.head, query: work.query, plan: work.plan,
                retryAfter: core.configuration.capacity.retryAfter.secondsRange)
            core.recordResponse(
                status: response.status, serviceNanoseconds: elapsedNanoseconds(),
                fault: ServerCore.overloadFaultIndex, countRequest: false, releasesCapacity: false)
            respond(response, head: work.head, keepAlive: work.keepAlive, context: context)
        }
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
        startService(work, context: context)
    }

    private func startService(_ work: Work, context: ChannelHandlerContext) {
        let service = ResponsePlanner.service(route: work.route, head: work.head, query: work.query, plan: work.plan)
        switch service.fault {
        case .hang:
            // Never answer; the connection stays open until the client gives up or the server stops.
            core.recordSilentFault(.hang, releasesCapacity: true)
            return
        case .reset:
            core.recordSilentFault(.reset, releasesCapacity: true)
            if machine.resetRequested() == .close {
                resetConnection(context: context)
            }
            return
        default:
            break
        }
        var seenVersion: UInt64 = 0
        if case .contention(let key) = work.route, service.servesEndpoint {
            seenVersion = core.contentionVersion(key)
        }
        if service.delayNanoseconds <= 0 {
            finish(work, service: service, seenVersion: seenVersion, context: context)
        } else {
            context.eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(service.delayNanoseconds)) {
                self.finish(work, service: service, seenVersion: seenVersion, context: context)
            }
        }
    }

    private func resetConnection(context: ChannelHandlerContext) {
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
        _ work: Work, service: ResponsePlanner.Service, seenVersion: UInt64, context: ChannelHandlerContext
    ) {
        var contention: ResponsePlanner.ContentionOutcome?
        if case .contention(let key) = work.route, service.servesEndpoint {
            switch core.contentionCommit(key, seen: seenVersion) {
            case true?: contention = .committed(version: seenVersion + 1)
            case false?: contention = .conflict
            case nil: contention = .storeFull
            }
        }
        let response = ResponsePlanner.response(
            route: work.route, head: work.head, query: work.query, plan: work.plan, service: service,
            contention: contention)
        // Counted before the write, so that a client that has its answer always finds it in the counters.
        let faultIndex = service.fault.flatMap { MockServerConfiguration.FaultKind.allCases.firstIndex(of: $0) }
        // A closed connection means the client gave up while the request waited or was served: wasted work.
        core.recordResponse(
            status: response.status, serviceNanoseconds: elapsedNanoseconds(), fault: faultIndex, countRequest: false,
            releasesCapacity: true, wasted: !machine.isProcessing)
        respond(response, head: work.head, keepAlive: work.keepAlive, context: context)
    }
}
