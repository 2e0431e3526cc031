import AsyncPatterns
import Foundation
import TestSupport
import Testing

@testable import MockServer

@Suite(.timeLimit(.minutes(1))) struct AdminTests {
    @Test func countersResetAndAdminRequestsAreNotCounted() async throws {
        try await withMockServer(.init(latency: .fixed(ms: 2))) { baseURL in
            let port = port(of: baseURL)
            let counters = try await onThread {
                let connection = try TestConnection(port: port)
                for _ in 0..<3 { _ = try connection.get("/health") }
                _ = try connection.get("/get")
                _ = try connection.get("/status/503")
                _ = try connection.get("/__admin/counters")
                return try connection.get("/__admin/counters")
            }
            #expect(counters.status == 200)
            let decoded = try JSONDecoder().decode(MockServerCounters.self, from: Data(counters.body))
            #expect(decoded.requests == 5)
            #expect(decoded.connections == 1)
            #expect(decoded.byStatus == ["200": 4, "503": 1])
            #expect(decoded.byPhase == ["default": 2])
            #expect(decoded.serviceTime.count == 5)
            #expect(decoded.serviceTime.maxNs >= 2_000_000)
            #expect(decoded.serviceTime.p50Ns <= decoded.serviceTime.p99Ns)
            let json = try JSONSerialization.jsonObject(with: Data(counters.body)) as? [String: Any]
            let serviceTime = json?["serviceTime"] as? [String: Any]
            for key in ["count", "meanNs", "p50Ns", "p90Ns", "p99Ns", "maxNs"] { #expect(serviceTime?[key] != nil) }

            let (reset, after) = try await onThread {
                (
                    try httpGet(port: port, "/__admin/reset", method: "POST"),
                    try httpGet(port: port, "/__admin/counters")
                )
            }
            #expect(reset.status == 204)
            let zeroed = try JSONDecoder().decode(MockServerCounters.self, from: Data(after.body))
            #expect(zeroed.requests == 0 && zeroed.byStatus.isEmpty && zeroed.serviceTime.count == 0)
        }
    }

    @Test func configIsAppliedLive() async throws {
        try await withRunningMockServer { server in
            let port = server.port
            let (put, failing, bad, unknown, read) = try await onThread {
                let connection = try TestConnection(port: port)
                let put = try connection.get(
                    "/__admin/config", method: "PUT", body: #"{"errorRate":1,"faults":{"503":1},"port":1}"#)
                let failing = try connection.get("/get")
                let bad = try connection.get("/__admin/config", method: "PUT", body: #"{"errorRate":"#)
                let unknown = try connection.get("/__admin/config", method: "PUT", body: #"{"latncy":{}}"#)
                let read = try connection.get("/__admin/config")
                return (put, failing, bad, unknown, read)
            }
            #expect(put.status == 200)
            #expect(failing.status == 503)
            #expect(bad.status == 400)
            #expect(unknown.status == 400 && unknown.text.contains("latncy"))
            let current = try JSONDecoder().decode(MockServerConfiguration.self, from: Data(read.body))
            #expect(current.errorRate == 1)
            // Host, port and event loops are not changed live.
            #expect(current.port == server.port)
            #expect(server.configuration.faults == .only(.status503))
        }
    }

    @Test func configAcceptsExpectContinue() async throws {
        try await withRunningMockServer { server in
            let port = server.port
            let body = #"{"seed":77}"#
            let (interim, final) = try await onThread {
                let connection = try TestConnection(port: port)
                try connection.send(
                    "PUT /__admin/config HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                        + "Content-Length: \(body.utf8.count)\r\n\r\n")
                let interim = try connection.readResponse()
                try connection.send(body)
                return (interim.status, try connection.readResponse().status)
            }
            #expect(interim == 100)
            #expect(final == 200)
            #expect(server.configuration.seed == 77)
        }
    }

    @Test func serviceRunsUnderAServiceGroupAndStopsOnCancel() async throws {
        let (stream, continuation) = AsyncStream.makeStream(of: RunningMockServer.self)
        let service = try MockServer(configuration: .init()) { continuation.yield($0) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await service.run() }
            var iterator = stream.makeAsyncIterator()
            let running = try #require(await iterator.next())
            let port = running.port
            let status1 = try await onThread { try httpGet(port: port, "/health").status }
            #expect(status1 == 200)
            group.cancelAll()
            try await group.waitForAll()
        }
    }

    @Test func withMockServerReturnsTheBodyResultAndStopsTheServer() async throws {
        let baseURL = try await withMockServer { $0 }
        let refused = try await onThread { (try? TestConnection(port: port(of: baseURL))) == nil }
        #expect(refused)
        struct Boom: Error {}
        await #expect(throws: Boom.self) {
            try await withMockServer { _ in throw Boom() }
        }
    }

    @Test func shutdownLetsRequestsInServiceFinish() async throws {
        let server = try await MockServer.start(.init(latency: .fixed(ms: 300), shutdownGraceMs: 5000))
        let port = server.port
        async let response = onThread { try httpGet(port: port, "/get") }
        while server.counters().inFlight == 0 { try await Task.sleep(for: .milliseconds(5)) }
        try await server.shutdown()
        #expect(try await response.status == 200)
        let refused = try await onThread { (try? TestConnection(port: port)) == nil }
        #expect(refused)
    }

    @Test func busyPortIsAClearError() async throws {
        try await withRunningMockServer { server in
            do {
                _ = try await MockServer.start(.init(port: server.port))
                Issue.record("a second server bound the same port")
            } catch let error as MockServerError {
                #expect(error.description.contains("cannot listen on 127.0.0.1:\(server.port)"))
                #expect(error.label == "bind-failed")
            }
        }
    }

    @Test func invalidConfigurationIsRefusedAtStart() async throws {
        await #expect(throws: MockServerConfigurationError.self) {
            _ = try await MockServer.start(.init(errorRate: -1))
        }
    }
}
