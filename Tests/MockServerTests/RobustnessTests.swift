import AsyncPatterns
import Foundation
import TestSupport
import Testing

@testable import MockServer

/// Each hostile client gets a 4xx answer or a closed connection, and the server goes on serving others.
@Suite(.timeLimit(.minutes(1))) struct RobustnessTests {
    /// Sends `bytes` on a new connection and returns the status answered, or how the connection ended.
    private static func outcome(port: Int, sending bytes: [UInt8], timeout: Double = 5) throws -> String {
        let connection = try TestConnection(port: port, timeout: timeout)
        do {
            try connection.send(bytes)
        } catch {
            // The server may answer and close while we are still sending; what it answered is still in our
            // receive buffer, ahead of the close, so it is read below either way.
        }
        do {
            let response = try connection.readResponse()
            return String(response.status)
        } catch {
            return (error as? TestClientError)?.description ?? "\(error)"
        }
    }

    private static func expectRefused(_ outcome: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let acceptable = ["closed", "reset"]
        let status = Int(outcome) ?? 0
        #expect(
            (400..<500).contains(status) || acceptable.contains(outcome), "got \(outcome)",
            sourceLocation: sourceLocation)
    }

    private static func expectHealthy(port: Int, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let status = try await onThread { try httpGet(port: port, "/health").status }
        #expect(status == 200, sourceLocation: sourceLocation)
    }

    @Test(arguments: [0, 1, 2, 3])
    func garbageBytes(variant: Int) async throws {
        try await withRunningMockServer { server in
            let port = server.port
            var generator = SplitMix64(seed: UInt64(variant))
            let payloads: [[UInt8]] = [
                (0..<4096).map { _ in UInt8.random(in: 0...255, using: &generator) },
                Array("\u{0}\u{1}\u{2}GARBAGE\r\n\r\n".utf8),
                Array("GET / HTTP/9.9\r\n\r\n".utf8),
                Array("GET /health HTTP/1.1\r\nContent-Length: -5\r\n\r\n".utf8),
            ]
            let outcome = try await onThread { try Self.outcome(port: port, sending: payloads[variant]) }
            Self.expectRefused(outcome)
            try await Self.expectHealthy(port: port)
        }
    }

    /// A request line, one header or many headers past 64 KiB get exactly one answer: 431.
    @Test(arguments: ["line", "header", "manyHeaders"])
    func headOver64KiB(kind: String) async throws {
        try await withRunningMockServer { server in
            let port = server.port
            let big = String(repeating: "a", count: 70 * 1024)
            let request: String
            switch kind {
            case "line":
                request = "GET /get?x=\(big) HTTP/1.1\r\nHost: x\r\n\r\n"
            case "header":
                request = "GET /get HTTP/1.1\r\nHost: x\r\nX-Big: \(big)\r\n\r\n"
            default:
                let headers = (0..<3000).map { "X-H\($0): \(String(repeating: "b", count: 20))\r\n" }.joined()
                request = "GET /get HTTP/1.1\r\nHost: x\r\n\(headers)\r\n"
            }
            let outcome = try await onThread { try Self.outcome(port: port, sending: Array(request.utf8)) }
            // The server always answers 431 before it closes (HeadLimitHandler, or the decoder's header limit),
            // and the answer reaches the client ahead of the close: nothing else is acceptable.
            #expect(outcome == "431", "an oversized \(kind) must be answered 431")
            #expect(server.counters().byStatus["431"] == 1)
            try await Self.expectHealthy(port: port)
        }
    }

    @Test func halfRequestThatStallsTimesOut() async throws {
        try await withRunningMockServer(.init(requestTimeoutMs: 200)) { server in
            let port = server.port
            let (stalledHead, stalledBody, servedMeanwhile) = try await onThread {
                let head = try TestConnection(port: port)
                try head.send("GET /health HTTP/1.1\r\nHost: x\r\nX-Partial: ")
                let body = try TestConnection(port: port)
                try body.send("PUT /__admin/config HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"seed\"")
                // Others are served while those two stall.
                let meanwhile = try httpGet(port: port, "/health").status
                return (try head.readResponse().status, try body.readResponse().status, meanwhile)
            }
            #expect(stalledHead == 408)
            #expect(stalledBody == 408)
            #expect(servedMeanwhile == 200)
            try await Self.expectHealthy(port: port)
        }
    }

    @Test func thousandConnectionsOpenedAndDropped() async throws {
        try await withRunningMockServer(.init(latency: .fixed(ms: 5))) { server in
            let port = server.port
            try await onThread {
                var open: [TestConnection] = []
                for i in 0..<1000 {
                    let connection = try TestConnection(port: port)
                    switch i % 4 {
                    case 1: try connection.send("GET /get HTTP/1.1\r\nHost: x\r\n\r\n")  // dropped before the answer
                    case 2: try connection.send("GET /health HTT")  // dropped mid-request
                    case 3: try connection.send("GET /delay/1 HTTP/1.1\r\nHost: x\r\n\r\n")
                    default: break
                    }
                    open.append(connection)
                    if open.count == 250 { open.removeAll() }  // closes them
                }
            }
            try await Self.expectHealthy(port: port)
            let counters = server.counters()
            #expect(counters.connections >= 1000)
        }
    }

    @Test func unsupportedMethodsAndOddTargets() async throws {
        try await withRunningMockServer { server in
            let port = server.port
            let outcomes = try await onThread {
                [
                    try Self.outcome(port: port, sending: Array("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n".utf8)),
                    try Self.outcome(
                        port: port, sending: Array("GET http://x/health HTTP/1.1\r\nHost: x\r\n\r\n".utf8)),
                    try Self.outcome(port: port, sending: Array("GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n".utf8)),
                ]
            }
            for outcome in outcomes { Self.expectRefused(outcome) }
            try await Self.expectHealthy(port: port)
        }
    }
}
