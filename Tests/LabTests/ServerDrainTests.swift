import AsyncHTTPClient
import Foundation
import LabStore
import MockServer
import NIOCore
import Testing

@testable import Lab

/// A cell's server figures are its own: requests a stopped client left in service at the server (a `wrk` cell ends
/// by closing its connections mid-request) must not count towards the next cell's peak in service.
@Suite(.serialized, .timeLimit(.minutes(1))) struct ServerDrainTests {
    @Test func configureWaitsForTheLastCellsRequestsToLeaveTheServer() async throws {
        let server = try MockServerProcess(executable: Built.folder + "/mock-server", cpu: nil)
        defer { server.stop() }
        let admin = HTTPClient(eventLoopGroupProvider: .singleton)
        try await server.configure(json: #"{"latency":{"kind":"fixed","ms":1500}}"#, client: admin)

        // A client that gives up after 300 ms leaves its request in its 1.5 s of latency at the server.
        let abandoned = HTTPClient(eventLoopGroupProvider: .singleton)
        for _ in 0..<3 {
            await #expect(throws: (any Error).self) {
                let request = HTTPClientRequest(url: server.baseURL + "/get")
                _ = try await abandoned.execute(request, timeout: .milliseconds(300))
            }
        }
        try await abandoned.shutdown()
        let before = try await server.figures(client: admin, cpuBefore: nil)
        #expect(
            try counters(before).inFlight >= 1, "the abandoned requests should be in service: \(before.countersJSON)")

        try await server.configure(json: #"{"latency":{"kind":"fixed","ms":1}}"#, client: admin)
        let after = try await server.figures(client: admin, cpuBefore: nil)
        #expect(try counters(after).peakInFlight == 0, "\(after.countersJSON)")
        #expect(try counters(after).inFlight == 0, "\(after.countersJSON)")
        try await admin.shutdown()
    }

    private func counters(_ figures: ServerFigures) throws -> MockServerCounters {
        try JSONDecoder().decode(MockServerCounters.self, from: Data(figures.countersJSON.utf8))
    }
}
