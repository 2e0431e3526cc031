import AsyncPatterns
import NIOCore
import NIOHTTP1
import Testing

@testable import MockServer

/// The response planner on its own: a request and an admission snapshot in, a fault, a delay and a response out.
@Suite struct RequestPlannerTests {
    static func plan(
        seed: UInt64 = 42, arrival: UInt64 = 1, errorRate: Double = 0, latency: LatencyModel = .none,
        faults: MockServerConfiguration.FaultMix = .init(), spikeMs: Double = 1000,
        rateLimit: MockServerConfiguration.RateLimit = .init(), rateLimited: Bool = false
    ) -> RequestPlan {
        RequestPlan(
            admission: .start, seed: seed, arrival: arrival, errorRate: errorRate, latency: latency, faults: faults,
            spikeMs: spikeMs, rateLimit: rateLimit, rateLimited: rateLimited)
    }

    static func head(_ uri: String, headers: [(String, String)] = []) -> HTTPRequestHead {
        HTTPRequestHead(version: .http1_1, method: .GET, uri: uri, headers: HTTPHeaders(headers))
    }

    /// Plans a request's service and response the way the handler does.
    static func respond(
        _ uri: String, headers: [(String, String)] = [], plan: RequestPlan,
        contention: ResponsePlanner.ContentionOutcome? = nil
    ) -> (ResponsePlanner.Service, PlannedResponse) {
        let head = head(uri, headers: headers)
        let (path, query) = RequestTarget.split(uri)
        let route = Route.parse(method: .GET, path: path)
        let service = ResponsePlanner.service(route: route, head: head, query: query, plan: plan)
        let response = ResponsePlanner.response(
            route: route, head: head, query: query, plan: plan, service: service, contention: contention)
        return (service, response)
    }

    static func text(_ response: PlannedResponse) -> String? {
        guard case .text(let text) = response.body else { return nil }
        return text
    }

    @Test func faultDecisionIsThePublicPureFunctionOfSeedIdAndAttempt() {
        let mix = MockServerConfiguration.FaultMix(
            status500: 1, status503: 1, status429: 1, spike: 1, reset: 1, hang: 1)
        let plan = Self.plan(errorRate: 0.3, faults: mix)
        var failures = 0
        for index in 0..<400 {
            let id = "req-\(index)"
            for attempt in [1, 2, 7] {
                let (service, _) = Self.respond(
                    "/get", headers: [("X-Request-Id", id), ("X-Attempt", String(attempt))], plan: plan)
                let fails = MockServer.shouldFail(seed: 42, requestID: id, attempt: attempt, errorRate: 0.3)
                #expect((service.fault != nil) == fails, "\(id) attempt \(attempt)")
                if fails {
                    failures += 1
                    #expect(service.fault == MockServer.faultKind(seed: 42, requestID: id, attempt: attempt, mix: mix))
                }
            }
        }
        #expect((240...480).contains(failures))
    }

    @Test func identityComesFromHeadersThenQueryThenArrival() {
        let byHeader = ResponsePlanner.identity(
            head: Self.head("/get", headers: [("X-Request-Id", "a"), ("X-Attempt", " 3 ")]), query: "", arrival: 9)
        #expect(byHeader.idHash == StableHash.hash("a"))
        #expect(byHeader.attempt == 3)

        let byQuery = ResponsePlanner.identity(head: Self.head("/get"), query: "request_id=a&attempt=%203", arrival: 9)
        #expect(byQuery.idHash == StableHash.hash("a"))
        #expect(byQuery.attempt == 3)

        let byArrival = ResponsePlanner.identity(head: Self.head("/get"), query: "attempt=x", arrival: 9)
        #expect(byArrival.idHash == MockServer.arrivalHash(9))
        #expect(byArrival.attempt == 1)
    }

    @Test(arguments: [
        (MockServerConfiguration.FaultKind.status500, 500), (.status503, 503), (.status429, 429),
    ])
    func injectedStatusFaults(kind: MockServerConfiguration.FaultKind, status: Int) {
        let plan = Self.plan(
            errorRate: 1, faults: .only(kind),
            rateLimit: .init(retryAfterMinSeconds: 2, retryAfterMaxSeconds: 5))
        let (service, response) = Self.respond("/get", headers: [("X-Request-Id", "r")], plan: plan)
        #expect(service.fault == kind)
        #expect(response.status == status)
        #expect(Self.text(response) == #"{"status":\#(status),"error":"injected fault"}"#)
        if kind == .status429 {
            let expected = MockServer.AttemptKey(seed: 42, idHash: StableHash.hash("r"), attempt: 1)
                .retryAfterSeconds(range: 2...5)
            #expect(response.header("Retry-After") == String(expected))
        } else {
            #expect(response.header("Retry-After") == nil)
        }
    }

    @Test func resetAndHangSendNothingAndSpikeAddsItsTime() {
        for kind in [MockServerConfiguration.FaultKind.reset, .hang] {
            let (service, _) = Self.respond("/get", plan: Self.plan(errorRate: 1, faults: .only(kind)))
            #expect(!service.answers)
            #expect(!service.servesEndpoint)
        }
        let (spike, response) = Self.respond(
            "/get", plan: Self.plan(errorRate: 1, latency: .fixed(ms: 5), faults: .only(.spike), spikeMs: 250))
        #expect(spike.answers && spike.servesEndpoint)
        #expect(spike.delayNanoseconds == 255_000_000)
        #expect(response.status == 200)
    }

    @Test func delayEndpointWaitsItsOwnTimeNotTheLatencyModel() {
        let (service, response) = Self.respond("/delay/0.5", plan: Self.plan(latency: .fixed(ms: 5)))
        #expect(service.fault == nil)
        #expect(service.delayNanoseconds == 500_000_000)
        #expect(Self.text(response) == #"{"delay":0.5}"#)
        let (other, _) = Self.respond("/get", plan: Self.plan(latency: .fixed(ms: 5)))
        #expect(other.delayNanoseconds == 5_000_000)
    }

    @Test func getEchoesArgumentsHeadersAndURL() {
        let (_, response) = Self.respond(
            "/get?a=1&b=x%20y", headers: [("Host", "h:1"), ("X-T", "v")], plan: Self.plan())
        #expect(response.status == 200)
        #expect(response.contentType == "application/json")
        #expect(
            Self.text(response)
                == #"{"args":{"a":"1","b":"x y"},"headers":{"Host":"h:1","X-T":"v"},"url":"http://h:1/get?a=1&b=x%20y"}"#
        )
    }

    @Test func rateLimitedEndpointAnswers429WithRetryAfterOnceOverTheLimit() {
        let limit = MockServerConfiguration.RateLimit(after: 3, retryAfterMinSeconds: 7, retryAfterMaxSeconds: 7)
        let (_, under) = Self.respond("/429", plan: Self.plan(rateLimit: limit))
        #expect(under.status == 200)
        #expect(under.header("Retry-After") == nil)
        let (_, over) = Self.respond("/429", plan: Self.plan(rateLimit: limit, rateLimited: true))
        #expect(over.status == 429)
        #expect(over.header("Retry-After") == "7")
        #expect(Self.text(over) == #"{"status":429,"error":"rate limit of 3 requests exceeded"}"#)
    }

    @Test func overCapacityCarriesRetryAfterOnlyWhenConfigured() {
        let head = Self.head("/get", headers: [("X-Request-Id", "r"), ("X-Attempt", "2")])
        let plain = ResponsePlanner.overCapacity(head: head, query: "", plan: Self.plan(), retryAfter: nil)
        #expect(plain == .status(503, "over capacity"))
        #expect(plain.header("Retry-After") == nil)
        let drawn = ResponsePlanner.overCapacity(head: head, query: "", plan: Self.plan(), retryAfter: 1...30)
        let expected = MockServer.AttemptKey(seed: 42, idHash: StableHash.hash("r"), attempt: 2).retryAfterSeconds(
            range: 1...30)
        #expect(drawn.status == 503)
        #expect(drawn.header("Retry-After") == String(expected))
    }

    @Test func statusEndpointAndEmptyBodies() {
        let (_, teapot) = Self.respond("/status/418", plan: Self.plan())
        #expect(teapot.status == 418)
        let (_, noContent) = Self.respond("/status/204", plan: Self.plan())
        #expect(noContent.status == 204)
        #expect(noContent.body == .text(""))
        let bytes = String(buffer: noContent.encoded(allocator: .init(), keepAlive: true, http10: false))
        #expect(bytes.hasPrefix("HTTP/1.1 204 No Content\r\n"))
        #expect(!bytes.contains("Content-Type"))
        #expect(bytes.hasSuffix("Content-Length: 0\r\n\r\n"))
    }

    @Test func bytesEndpointIsSeededAndEncodedWithItsLength() {
        let (_, response) = Self.respond("/bytes/13", plan: Self.plan(seed: 5))
        #expect(response.body == .seededBytes(count: 13, seed: 5))
        #expect(response.contentType == "application/octet-stream")
        var buffer = response.encoded(allocator: .init(), keepAlive: false, http10: false)
        let text = String(buffer: buffer)
        #expect(text.contains("Content-Length: 13\r\n"))
        #expect(text.contains("Connection: close\r\n"))
        buffer.moveReaderIndex(forwardBy: buffer.readableBytes - 13)
        var expected = ByteBuffer()
        ResponsePlanner.seededBytes(13, seed: 5, into: &expected)
        #expect(buffer == expected)
        var again = ByteBuffer()
        ResponsePlanner.seededBytes(13, seed: 5, into: &again)
        var other = ByteBuffer()
        ResponsePlanner.seededBytes(13, seed: 6, into: &other)
        #expect(again == expected && other != expected)
    }

    @Test func contentionAnswersFollowTheCommit() {
        let plan = Self.plan()
        #expect(
            Self.text(Self.respond("/contention/k", plan: plan, contention: .committed(version: 4)).1)
                == #"{"key":"k","version":4}"#)
        #expect(Self.respond("/contention/k", plan: plan, contention: .conflict).1.status == 409)
        #expect(Self.respond("/contention/k", plan: plan, contention: .storeFull).1.status == 400)
    }

    @Test func unscheduledRoutes() {
        #expect(ResponsePlanner.unscheduled(.health, method: .GET, path: "/health")?.status == 200)
        #expect(
            ResponsePlanner.unscheduled(.notFound, method: .GET, path: "/nope")
                == .status(404, "no such endpoint: /nope"))
        let notAllowed = ResponsePlanner.unscheduled(.methodNotAllowed(allow: "GET"), method: .DELETE, path: "/get")
        #expect(notAllowed?.status == 405)
        #expect(notAllowed?.header("Allow") == "GET")
        #expect(ResponsePlanner.unscheduled(.badParameter("bad"), method: .GET, path: "/x") == .status(400, "bad"))
        #expect(ResponsePlanner.unscheduled(.get, method: .GET, path: "/get") == nil)
    }
}
