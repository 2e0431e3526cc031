import NIOCore
import NIOHTTP1

extension HTTPConnectionHandler {
    /// A request whose head and end have arrived, as the state machine hands it over for serving.
    struct AssembledRequest: Equatable {
        /// The request head.
        var head: HTTPRequestHead
        /// The body of a `PUT /__admin/…` request, up to `StateMachine.maximumBody` bytes; nil for other requests.
        var body: ByteBuffer?
        /// Whether the admin body was over `StateMachine.maximumBody` (and so dropped in part).
        var bodyTooLarge: Bool
        /// Whether the connection stays open after the response (`head.isKeepAlive`).
        var keepAlive: Bool
    }

    /// The connection's decisions as a value: each method takes one event and returns what the handler must do.
    ///
    /// Requests on a connection are served one at a time, in order: while one is in service, reads are held back
    /// and the parts of pipelined requests wait here until the response is written. Modelled on AsyncHTTPClient's
    /// `HTTP1ConnectionStateMachine`; the handler owns the channel, the clock and the request timer.
    struct StateMachine {
        /// The largest request body kept (for `PUT /__admin/config`), 1 MiB; others are discarded.
        static let maximumBody = 1 << 20

        /// What the handler must do after an event.
        enum Action: Equatable {
            /// Nothing.
            case wait
            /// A request head arrived: note its start time, stop counting head bytes, and answer
            /// `Expect: 100-continue` when `sendContinue`.
            case startRequest(sendContinue: Bool)
            /// A request is complete: cancel the request timer, count the next head's bytes, and serve it.
            case serve(AssembledRequest)
            /// A request is partly received: start the request timer.
            case startTimer
            /// Pass the read request on (reads are held back while a request is in service).
            case read
            /// Answer an unusable request with `status` and `message`, then close (the request timer is cancelled).
            case refuse(status: Int, message: String)
            /// Close the connection at once.
            case close
        }

        /// What the handler does with a finished response.
        enum ResponseAction: Equatable {
            /// Write it; the connection stays open, and `nextPendingAction()` serves what waited.
            case write
            /// Write it, then close.
            case writeAndClose
            /// Drop it: the connection closed (or was reset) while the request was in service.
            case drop
        }

        private enum State: Equatable {
            /// Waiting for a request head.
            case idle
            /// A head arrived; waiting for the end. `keepsBody` for `PUT /__admin/…`, whose body is kept.
            case receiving(HTTPRequestHead, keepsBody: Bool)
            /// A request is in service.
            case processing(keepAlive: Bool)
            /// Closed or closing; nothing more is served.
            case closed
        }

        private var state = State.idle
        /// The body being received, outside `state` so that appending to it does not copy it.
        private var body: ByteBuffer?
        private var bodyTooLarge = false
        /// Parts that arrived while a request was in service, in order.
        private var pending: [HTTPServerRequestPart] = []
        private var readDeferred = false
        private var timerRunning = false

        init() {}

        /// Whether a request is in service.
        var isProcessing: Bool {
            if case .processing = state { return true }
            return false
        }

        /// Whether the connection is closed or closing.
        var isClosed: Bool { state == .closed }

        // MARK: Channel events

        /// A part arrived from the decoder.
        mutating func partReceived(_ part: HTTPServerRequestPart) -> Action {
            switch state {
            case .processing:
                pending.append(part)
                return .wait
            case .closed:
                return .wait
            case .idle, .receiving:
                return handle(part)
            }
        }

        /// A read burst ended; `headBytesPending` is whether bytes of a next head arrived (`HeadLimitHandler`).
        mutating func readComplete(headBytesPending: Bool) -> Action {
            let partial: Bool
            switch state {
            case .receiving: partial = true
            case .idle: partial = headBytesPending
            case .processing, .closed: partial = false
            }
            guard partial, !timerRunning else { return .wait }
            timerRunning = true
            return .startTimer
        }

        /// The channel asks to read more.
        mutating func readRequested() -> Action {
            guard isProcessing else { return .read }
            readDeferred = true
            return .wait
        }

        /// The request timer fired.
        mutating func timerFired() -> Action {
            timerRunning = false
            switch state {
            case .idle, .receiving:
                return refuse(status: 408, message: "request not received in time")
            case .processing, .closed:
                return .wait
            }
        }

        /// An error came up the pipeline: a parser error is answered (431 or 400), anything else closes.
        mutating func errorCaught(_ error: any Error) -> Action {
            switch state {
            case .closed:
                return .wait
            case .processing:
                // A response is on its way; the connection cannot be trusted for more.
                state = .closed
                return .close
            case .idle, .receiving:
                guard let parserError = error as? HTTPParserError else {
                    state = .closed
                    return .close
                }
                if parserError == .headerOverflow {
                    return refuse(status: 431, message: "request headers are limited to 65536 bytes")
                }
                return refuse(status: 400, message: "malformed HTTP request: \(parserError)")
            }
        }

        /// The channel closed: what waited is dropped. The handler cancels the request timer.
        mutating func channelInactive() {
            state = .closed
            timerRunning = false
            pending.removeAll()
        }

        // MARK: Service events

        /// The request in service has its response.
        mutating func responseReady() -> ResponseAction {
            guard case .processing(let keepAlive) = state else { return .drop }
            guard keepAlive else {
                state = .closed
                return .writeAndClose
            }
            state = .idle
            return .write
        }

        /// The request in service asks for a reset (TCP RST) instead of a response.
        mutating func resetRequested() -> Action {
            guard state != .closed else { return .wait }
            state = .closed
            return .close
        }

        /// After a keep-alive response: the next thing to do for the parts that waited, and then for a read
        /// held back; nil once a request is in service again or nothing is left. Call until nil.
        mutating func nextPendingAction() -> Action? {
            switch state {
            case .idle, .receiving:
                if !pending.isEmpty {
                    return handle(pending.removeFirst())
                }
            case .processing:
                return nil
            case .closed:
                break
            }
            guard readDeferred else { return nil }
            readDeferred = false
            return .read
        }

        // MARK: Request assembly

        private mutating func handle(_ part: HTTPServerRequestPart) -> Action {
            switch part {
            case .head(let head):
                body = nil
                bodyTooLarge = false
                state = .receiving(head, keepsBody: head.method == .PUT && head.uri.hasPrefix("/__admin/"))
                let sendContinue =
                    head.method != .GET && head.headers.first(name: "Expect")?.lowercased() == "100-continue"
                return .startRequest(sendContinue: sendContinue)
            case .body(var chunk):
                guard case .receiving(_, let keepsBody) = state, keepsBody else { return .wait }
                if (body?.readableBytes ?? 0) + chunk.readableBytes > Self.maximumBody {
                    bodyTooLarge = true
                } else if body == nil {
                    body = chunk
                } else {
                    body!.writeBuffer(&chunk)
                }
                return .wait
            case .end:
                guard case .receiving(let head, _) = state else { return .wait }
                let keepAlive = head.isKeepAlive
                let request = AssembledRequest(head: head, body: body, bodyTooLarge: bodyTooLarge, keepAlive: keepAlive)
                body = nil
                timerRunning = false
                state = .processing(keepAlive: keepAlive)
                return .serve(request)
            }
        }

        private mutating func refuse(status: Int, message: String) -> Action {
            state = .closed
            timerRunning = false
            return .refuse(status: status, message: message)
        }
    }
}
