import AsyncPatterns
import NIOCore
import NIOHTTP1

/// A response decided but not yet written: status, headers and body.
struct PlannedResponse: Equatable {
    /// What the body holds.
    enum Body: Equatable {
        /// Text, usually JSON; an empty text gets no `Content-Type`.
        case text(String)
        /// `count` bytes from a generator seeded by (seed, count), as `ResponsePlanner.seededBytes` writes them.
        case seededBytes(count: Int, seed: UInt64)
    }

    /// The HTTP status code.
    var status: Int
    /// The `Content-Type`, or nil for none. Default `application/json`.
    var contentType: String? = "application/json"
    /// Headers beyond `Server`, `Content-Type`, `Content-Length` and `Connection`, e.g. `Retry-After`.
    var extraHeaders: [(String, String)] = []
    /// The body.
    var body: Body

    /// A JSON error or status body: `{"status":…,"error":"message"}`.
    static func status(_ status: Int, _ message: String, extraHeaders: [(String, String)] = []) -> PlannedResponse {
        PlannedResponse(
            status: status, extraHeaders: extraHeaders, body: .text(ResponseWriter.statusBody(status, message)))
    }

    /// The value of the first extra header called `name`.
    func header(_ name: String) -> String? {
        extraHeaders.first { $0.0 == name }?.1
    }

    /// The response as HTTP/1.1 bytes.
    func encoded(allocator: ByteBufferAllocator, keepAlive: Bool, http10: Bool) -> ByteBuffer {
        switch body {
        case .text(let text):
            return ResponseWriter.response(
                allocator: allocator, status: status, contentType: contentType, body: text, keepAlive: keepAlive,
                http10: http10, extraHeaders: extraHeaders)
        case .seededBytes(let count, let seed):
            var buffer = allocator.buffer(capacity: 160 + count)
            ResponseWriter.writeHead(
                into: &buffer, status: status, contentType: contentType, contentLength: count, keepAlive: keepAlive,
                http10: http10, extraHeaders: extraHeaders)
            ResponsePlanner.seededBytes(count, seed: seed, into: &buffer)
            return buffer
        }
    }

    static func == (lhs: PlannedResponse, rhs: PlannedResponse) -> Bool {
        lhs.status == rhs.status && lhs.contentType == rhs.contentType && lhs.body == rhs.body
            && lhs.extraHeaders.elementsEqual(rhs.extraHeaders) { $0.0 == $1.0 && $0.1 == $1.1 }
    }
}

/// Pure decisions from a request to its response: what it is subject to, what fault it gets, how long it waits
/// and what it is answered. No channel, clock or lock: the handler passes in the admission snapshot
/// (`RequestPlan`) and the outcome of the contention store, and carries out the result.
enum ResponsePlanner {
    /// How an admitted request is served, fixed when its service starts.
    struct Service: Equatable {
        /// The identity hash its draws are keyed by (`X-Request-Id` or `?request_id=`, else its arrival number).
        var idHash: UInt64
        /// Its attempt (`X-Attempt` or `?attempt=`), default 1.
        var attempt: Int
        /// The injected fault, nil for none.
        var fault: MockServerConfiguration.FaultKind?
        /// How long to wait before answering, in ns (a spike's extra time included).
        var delayNanoseconds: Int64

        /// Whether a response follows (no reset or hang).
        var answers: Bool { fault != .reset && fault != .hang }

        /// Whether the endpoint's own answer is given (no fault, or a spike), and a contention write is made.
        var servesEndpoint: Bool { fault == nil || fault == .spike }
    }

    /// What a contention write's commit gave (`ServerCore.contentionCommit`).
    enum ContentionOutcome: Equatable {
        /// Committed: the key now has `version`.
        case committed(version: UInt64)
        /// Another write committed since this one read.
        case conflict
        /// The store is full.
        case storeFull
    }

    // MARK: Requests that are not admitted

    /// The answer to a route that is neither admitted nor admin (`/health`, 404, 405, 400), or nil for others.
    static func unscheduled(_ route: Route, method: HTTPMethod, path: Substring) -> PlannedResponse? {
        switch route {
        case .health:
            return PlannedResponse(status: 200, body: .text(ResponseWriter.healthBody))
        case .notFound:
            return .status(404, "no such endpoint: \(path)")
        case .methodNotAllowed(let allow):
            return .status(405, "method \(method) not allowed; allowed: \(allow)", extraHeaders: [("Allow", allow)])
        case .badParameter(let message):
            return .status(400, message)
        default:
            return nil
        }
    }

    /// The 503 of a request over capacity, with `Retry-After` drawn from `retryAfter` (nil for none).
    static func overCapacity(
        head: HTTPRequestHead, query: Substring, plan: RequestPlan, retryAfter: ClosedRange<Int>?
    ) -> PlannedResponse {
        var extraHeaders: [(String, String)] = []
        if let retryAfter {
            let (idHash, attempt) = identity(head: head, query: query, arrival: plan.arrival)
            let seconds = MockServer.AttemptKey(seed: plan.seed, idHash: idHash, attempt: attempt)
                .retryAfterSeconds(range: retryAfter)
            extraHeaders.append(("Retry-After", String(seconds)))
        }
        return .status(503, "over capacity", extraHeaders: extraHeaders)
    }

    // MARK: Admitted requests

    /// The fault and delay of an admitted request: pure functions of (seed, identity, attempt) under `plan`.
    static func service(route: Route, head: HTTPRequestHead, query: Substring, plan: RequestPlan) -> Service {
        let (idHash, attempt) = identity(head: head, query: query, arrival: plan.arrival)
        let key = MockServer.AttemptKey(seed: plan.seed, idHash: idHash, attempt: attempt)
        var fault: MockServerConfiguration.FaultKind?
        if plan.errorRate > 0, key.failureUnit < plan.errorRate {
            fault = key.faultKind(mix: plan.faults)
        }
        var delay: Int64
        if case .delay(let nanoseconds) = route {
            delay = nanoseconds
        } else {
            var generator = key.latencyGenerator
            delay = plan.latency.sampleNanoseconds(using: &generator)
        }
        if fault == .spike {
            delay += Int64(plan.spikeMs * 1_000_000)
        }
        return Service(idHash: idHash, attempt: attempt, fault: fault, delayNanoseconds: delay)
    }

    /// The response of an admitted request once its delay has passed. `contention` is the commit's outcome for a
    /// `/contention/{key}` request that `service.servesEndpoint`, nil otherwise.
    static func response(
        route: Route, head: HTTPRequestHead, query: Substring, plan: RequestPlan, service: Service,
        contention: ContentionOutcome?
    ) -> PlannedResponse {
        func retryAfter() -> (String, String) {
            let seconds = MockServer.AttemptKey(seed: plan.seed, idHash: service.idHash, attempt: service.attempt)
                .retryAfterSeconds(range: plan.rateLimit.retryAfterMinSeconds...plan.rateLimit.retryAfterMaxSeconds)
            return ("Retry-After", String(seconds))
        }

        switch service.fault {
        case .status500:
            return .status(500, "injected fault")
        case .status503:
            return .status(503, "injected fault")
        case .status429:
            return .status(429, "injected fault", extraHeaders: [retryAfter()])
        case .spike, .none, .reset, .hang:
            break
        }
        switch route {
        case .get:
            return PlannedResponse(status: 200, body: .text(echo(head: head, query: query)))
        case .status(let code):
            if code == 204 || code == 304 { return PlannedResponse(status: code, body: .text("")) }
            return .status(code, "status \(code) as requested")
        case .delay(let nanoseconds):
            return PlannedResponse(status: 200, body: .text(#"{"delay":\#(Double(nanoseconds) / 1e9)}"#))
        case .rateLimited:
            guard plan.rateLimited else { return PlannedResponse(status: 200, body: .text(#"{"status":"ok"}"#)) }
            return .status(
                429, "rate limit of \(plan.rateLimit.after) requests exceeded", extraHeaders: [retryAfter()])
        case .fail500:
            return .status(500, "always fails")
        case .bytes(let count):
            return PlannedResponse(
                status: 200, contentType: "application/octet-stream", body: .seededBytes(count: count, seed: plan.seed))
        case .contention(let key):
            switch contention {
            case .committed(let version)?:
                return PlannedResponse(
                    status: 200, body: .text(#"{"key":\#(JSONString.quoted(key)),"version":\#(version)}"#))
            case .conflict?:
                return .status(409, "write conflict on key '\(key)'")
            case .storeFull?, nil:
                return .status(
                    400,
                    "too many contention keys (\(ServerCore.maximumContentionKeys)); POST /__admin/reset clears them")
            }
        default:
            return .status(500, "unroutable")
        }
    }

    // MARK: Parts

    /// A request's identity hash (`X-Request-Id` or `?request_id=`, else its arrival number) and its attempt
    /// (`X-Attempt` or `?attempt=`, default 1): what its fault, latency and `Retry-After` draws are keyed by.
    static func identity(head: HTTPRequestHead, query: Substring, arrival: UInt64) -> (idHash: UInt64, attempt: Int) {
        let idHash: UInt64
        if let id = head.headers.first(name: "X-Request-Id") ?? RequestTarget.parameter("request_id", in: query) {
            idHash = StableHash.hash(id)
        } else {
            idHash = MockServer.arrivalHash(arrival)
        }
        let attemptText = head.headers.first(name: "X-Attempt") ?? RequestTarget.parameter("attempt", in: query)
        return (idHash, attemptText.flatMap(parseAttempt) ?? 1)
    }

    /// The `/get` echo: `{"args":{...},"headers":{...},"url":"..."}`.
    static func echo(head: HTTPRequestHead, query: Substring) -> String {
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
    static func parseAttempt(_ text: String) -> Int? {
        if let value = Int(text) { return value }
        let trimmed = text.utf8.drop { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
        let end = trimmed.lastIndex { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") }
        guard let end else { return nil }
        return Int(String(decoding: trimmed[...end], as: UTF8.self))
    }

    /// Writes `count` bytes from a generator seeded by (seed, count): the same bytes every time.
    static func seededBytes(_ count: Int, seed: UInt64, into buffer: inout ByteBuffer) {
        var generator = SplitMix64(seed: StableHash.combine(seed, UInt64(count)))
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
    }
}
