import Foundation
import TestSupport
import Testing

@testable import MockServer

@Suite(.timeLimit(.minutes(1))) struct EndpointTests {
    @Test func healthAnswersOK() async throws {
        try await withMockServer { baseURL in
            let response = try await onThread { try httpGet(port: port(of: baseURL), "/health") }
            #expect(response.status == 200)
            #expect(response.text == #"{"status":"ok"}"#)
            #expect(baseURL.hasPrefix("http://127.0.0.1:") && !baseURL.hasSuffix("/"))
        }
    }

    @Test func healthOverHTTP10AndConnectionClose() async throws {
        try await withMockServer { baseURL in
            try await onThread {
                let connection = try TestConnection(port: port(of: baseURL))
                try connection.send("GET /health HTTP/1.0\r\n\r\n")
                let response = try connection.readResponse()
                #expect(response.status == 200)
                #expect(connection.waitForClose() == "closed")
                let second = try TestConnection(port: port(of: baseURL))
                let closing = try second.get("/health", headers: [("Connection", "close")])
                #expect(closing.header("Connection") == "close")
                #expect(second.waitForClose() == "closed")
            }
        }
    }

    @Test func keepAliveServesManyRequestsOnOneConnection() async throws {
        try await withRunningMockServer { server in
            let port = server.port
            try await onThread {
                let connection = try TestConnection(port: port)
                for _ in 0..<50 {
                    let status = try connection.get("/health").status
                    #expect(status == 200)
                }
                // Pipelined: three requests in one write, answered in order.
                try connection.send(
                    "GET /status/201 HTTP/1.1\r\nHost: x\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n\r\n"
                        + "GET /status/202 HTTP/1.1\r\nHost: x\r\n\r\n")
                let status1 = try connection.readResponse().status
                #expect(status1 == 201)
                let status2 = try connection.readResponse().status
                #expect(status2 == 200)
                let status3 = try connection.readResponse().status
                #expect(status3 == 202)
            }
            #expect(server.counters().connections == 1)
            #expect(server.counters().requests == 53)
        }
    }

    @Test func pipelinedRequestsWaitForTheOneInService() async throws {
        try await withRunningMockServer(.init(latency: .fixed(ms: 20))) { server in
            let port = server.port
            let statuses = try await onThread {
                let connection = try TestConnection(port: port)
                let requests = [201, 202, 203, 204, 205].map { "GET /status/\($0) HTTP/1.1\r\nHost: x\r\n\r\n" }
                try connection.send(requests.joined() + "GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
                return try (0..<6).map { _ in try connection.readResponse().status }
            }
            #expect(statuses == [201, 202, 203, 204, 205, 200])
            #expect(server.counters().peakInFlight == 1)
        }
    }

    @Test func getEchoesArgsHeadersAndURL() async throws {
        try await withMockServer { baseURL in
            let response = try await onThread {
                try httpGet(port: port(of: baseURL), "/get?a=1&b=x%20y&a=2", headers: [("X-Test", "yes")])
            }
            #expect(response.status == 200)
            let json = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
            let args = json?["args"] as? [String: Any]
            #expect(args?["b"] as? String == "x y")
            #expect(args?["a"] as? [String] == ["1", "2"])
            #expect((json?["headers"] as? [String: String])?["X-Test"] == "yes")
            #expect(json?["url"] as? String == "http://127.0.0.1/get?a=1&b=x%20y&a=2")
        }
    }

    @Test(arguments: [200, 201, 204, 301, 404, 418, 500, 503, 599])
    func statusEndpointAnswersTheCode(code: Int) async throws {
        try await withMockServer { baseURL in
            let response = try await onThread { try httpGet(port: port(of: baseURL), "/status/\(code)") }
            #expect(response.status == code)
        }
    }

    @Test(arguments: [
        "/status/abc", "/status/-5", "/status/99", "/status/600", "/status/", "/delay/-1", "/delay/abc", "/delay/nan",
        "/bytes/-1", "/bytes/x", "/bytes/1.5", "/status/99999999999999999999999",
    ])
    func badPathParametersGet400(target: String) async throws {
        try await withRunningMockServer { server in
            let port = server.port
            let response = try await onThread { try httpGet(port: port, target) }
            #expect(response.status == 400)
            #expect(response.text.contains("error"))
            // And the server goes on serving.
            let status4 = try await onThread { try httpGet(port: port, "/health").status }
            #expect(status4 == 200)
        }
    }

    @Test func delayWaitsAndIsCappedAt60Seconds() async throws {
        try await withRunningMockServer(.init(latency: .fixed(ms: 1000))) { server in
            let port = server.port
            let response = try await onThread { try httpGet(port: port, "/delay/0.05") }
            #expect(response.status == 200)
            // The latency model does not apply to /delay: only the 50 ms delay is served.
            let serviceTime = server.counters().serviceTime
            #expect(serviceTime.maxNs >= 50_000_000)
            #expect(serviceTime.maxNs < 1_000_000_000)
        }
        #expect(Route.parse(method: .GET, path: "/delay/100") == .delay(nanoseconds: 60_000_000_000))
        #expect(Route.parse(method: .GET, path: "/delay/1.5") == .delay(nanoseconds: 1_500_000_000))
    }

    @Test func rateLimitEndpointAnswers429AfterN() async throws {
        let configuration = MockServerConfiguration(
            rateLimit: .init(after: 3, retryAfterMinSeconds: 2, retryAfterMaxSeconds: 5))
        try await withRunningMockServer(configuration) { server in
            let port = server.port
            let responses = try await onThread {
                let connection = try TestConnection(port: port)
                return try (0..<8).map { i in try connection.get("/429", headers: [("X-Request-Id", "r\(i)")]) }
            }
            #expect(responses.map(\.status) == [200, 200, 200, 429, 429, 429, 429, 429])
            for response in responses.dropFirst(3) {
                let retryAfter = response.header("Retry-After").flatMap(Int.init)
                #expect(retryAfter.map { (2...5).contains($0) } == true)
            }
            server.resetCounters()
            let status5 = try await onThread { try httpGet(port: port, "/429").status }
            #expect(status5 == 200)
        }
    }

    @Test func fiveHundredEndpointAlwaysFails() async throws {
        try await withMockServer { baseURL in
            let response = try await onThread { try httpGet(port: port(of: baseURL), "/500") }
            #expect(response.status == 500)
        }
    }

    @Test func bytesAreSeededAndCapped() async throws {
        try await withMockServer(.init(seed: 5)) { baseURL in
            let port = port(of: baseURL)
            let (a, b, zero, capped) = try await onThread {
                let connection = try TestConnection(port: port)
                return (
                    try connection.get("/bytes/1000"), try connection.get("/bytes/1000"),
                    try connection.get("/bytes/0"),
                    try connection.get("/bytes/5000000")
                )
            }
            #expect(a.status == 200 && a.body.count == 1000)
            #expect(a.header("Content-Type") == "application/octet-stream")
            #expect(a.body == b.body)
            #expect(Set(a.body).count > 200)
            #expect(zero.body.isEmpty)
            #expect(capped.body.count == 1 << 20)
        }
    }

    @Test func unknownPathIs404AndOtherMethodsAre405() async throws {
        try await withMockServer { baseURL in
            let port = port(of: baseURL)
            let (missing, post, delete, head) = try await onThread {
                (
                    try httpGet(port: port, "/nope"), try httpGet(port: port, "/get", method: "POST"),
                    try httpGet(port: port, "/status/200", method: "DELETE"),
                    try httpGet(port: port, "/__admin/counters", method: "DELETE")
                )
            }
            #expect(missing.status == 404)
            #expect(post.status == 405 && post.header("Allow") == "GET")
            #expect(delete.status == 405)
            #expect(head.status == 405)
        }
    }

    /// A lone write succeeds; of four writes to one key in service together, the first to commit wins and the
    /// three others, which read the key before that commit, get 409.
    @Test func contentionGives409WhenAnotherWriteLandsDuringService() async throws {
        // One event loop reads all four writes and runs their timers, so none can commit before the loop has read
        // the others that were already sent.
        try await withRunningMockServer(.init(eventLoops: 1)) { server in
            let port = server.port
            // A lone write succeeds.
            let status6 = try await onThread { try httpGet(port: port, "/contention/solo").status }
            #expect(status6 == 200)
            // The four writes go out back to back on connections opened beforehand, so all four are in service
            // long before the first one's 2 s of latency ends: only a stall of seconds between four sends could
            // separate them (the server's latency is fixed when a request arrives; nothing holds it longer).
            try server.apply(.init(latency: .fixed(ms: 2_000)))
            server.resetCounters()
            let statuses = try await onThread {
                let connections = try (0..<4).map { _ in try TestConnection(port: port, timeout: 60) }
                let post = "POST /contention/shared HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n"
                for connection in connections { try connection.send(post) }
                return connections.map { (try? $0.readResponse().status) ?? -1 }
            }
            let counters = server.counters()
            #expect(counters.peakInFlight == 4, "the four writes were not all in service together")
            #expect(statuses.filter { $0 == 200 }.count == 1, "\(statuses)")
            #expect(statuses.filter { $0 == 409 }.count == 3, "\(statuses)")
            #expect(counters.byStatus["409"] == 3)
        }
    }
}
