import AsyncPatterns
import Foundation
import TestSupport
import Testing

@testable import HTTPEngines

@Suite("The async engine's target and event loops", .timeLimit(.minutes(1)))
struct AsyncEngineTests {
    @Test("base URLs it can use: host, port, IPv6, a trailing path")
    func targets() throws {
        let plain = try HTTPTarget(baseURL: "http://127.0.0.1:8080", path: "/get")
        #expect(plain.address.port == 8080)
        #expect(plain.hostHeader == "127.0.0.1:8080")
        #expect(plain.path == "/get")
        let defaultPort = try HTTPTarget(baseURL: "HTTP://127.0.0.1/ignored", path: "")
        #expect(defaultPort.address.port == 80)
        #expect(defaultPort.path == "/")
        let v6 = try HTTPTarget(baseURL: "http://[::1]:9000", path: "/health")
        #expect(v6.address.port == 9000)
        #expect(v6.hostHeader == "[::1]:9000")
    }

    @Test(
        "base URLs it refuses, with the URL and the reason",
        arguments: [
            ("https://127.0.0.1:8080", "only http://"), ("http://127.0.0.1:0", "port"),
            ("http://127.0.0.1:http", "port"), ("http://:8080", "host is missing"),
            ("http://[::1]:99999", "port"),
        ])
    func badTargets(url: String, reason: String) {
        #expect {
            _ = try HTTPTarget(baseURL: url, path: "/get")
        } throws: { error in
            let message = String(describing: error)
            return error is HTTPTargetError && message.contains(url) && message.contains(reason)
        }
    }

    @Test("a bad base URL fails the run before any request, with no sample")
    func badBaseURLFailsTheRun() async {
        let sink = CollectingSink()
        await #expect(throws: HTTPTargetError.self) {
            _ = try await AsyncEngine().run(
                EngineConfiguration(baseURL: "ftp://127.0.0.1:1", requests: 3), policy: SingleAttemptPolicy(),
                sink: sink)
        }
        #expect(sink.all.isEmpty)
    }

    @Test("any number of event loops serves every request", arguments: [1, 3])
    func eventLoops(count: Int) async throws {
        let server = try RawTestServer(.http { _, _ in 200 })
        let sink = CollectingSink()
        let configuration = EngineConfiguration(
            baseURL: server.baseURL, concurrency: 8, requests: 200, eventLoops: count)
        let summary = try await AsyncEngine().run(configuration, policy: SingleAttemptPolicy(), sink: sink)
        #expect(summary.completedRequests == 200)
        #expect(sink.finals.count == 200)
        #expect(sink.all.allSatisfy { $0.errorClass == .ok })
    }
}
