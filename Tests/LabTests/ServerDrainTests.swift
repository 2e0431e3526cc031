import AsyncHTTPClient
import Foundation
import LabStore
import MockServer
import TestSupport
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

        // Three requests in their 1.5 s of latency; then their client goes away, as a finished wrk cell does.
        var clients: [TestConnection] = []
        for _ in 0..<3 {
            let client = try TestConnection(port: port(of: server.baseURL))
            try client.send("GET /get HTTP/1.1\r\nHost: test\r\n\r\n")
            clients.append(client)
        }
        var inService = 0
        for _ in 0..<500 where inService < 3 {
            inService = try counters(await server.figures(client: admin, cpuBefore: nil)).inFlight
            if inService < 3 { try await Task.sleep(for: .milliseconds(10)) }
        }
        #expect(inService == 3, "the three requests never were in service together")
        clients.removeAll()

        try await server.configure(json: #"{"latency":{"kind":"fixed","ms":1}}"#, client: admin)
        let after = try counters(await server.figures(client: admin, cpuBefore: nil))
        #expect(after.peakInFlight == 0, "the next cell's peak started from the last cell's requests")
        #expect(after.inFlight == 0)
        try await admin.shutdown()
    }

    /// A collapsed open-loop cell leaves its queue behind; the server goes on serving it after the clients left,
    /// so the next cell must wait until nothing is queued either, however long that takes (here 8 s; the queue of a
    /// collapsed `metastable` cell took 20 s).
    @Test func configureWaitsForTheLastCellsQueueToEmpty() async throws {
        let server = try MockServerProcess(executable: Built.folder + "/mock-server", cpu: nil)
        defer { server.stop() }
        let admin = HTTPClient(eventLoopGroupProvider: .singleton)
        try await server.configure(
            json: #"{"latency":{"kind":"fixed","ms":2000},"capacity":{"limit":1}}"#, client: admin)

        // One request in service and three queued behind it (8 s of work); then the clients go away.
        var clients: [TestConnection] = []
        for _ in 0..<4 {
            let client = try TestConnection(port: port(of: server.baseURL))
            try client.send("GET /get HTTP/1.1\r\nHost: test\r\n\r\n")
            clients.append(client)
        }
        var queued = 0
        for _ in 0..<500 where queued < 3 {
            queued = try counters(await server.figures(client: admin, cpuBefore: nil)).queued
            if queued < 3 { try await Task.sleep(for: .milliseconds(10)) }
        }
        #expect(queued == 3, "three requests never were queued together")
        clients.removeAll()

        try await server.configure(json: #"{"latency":{"kind":"fixed","ms":1}}"#, client: admin)
        let after = try counters(await server.figures(client: admin, cpuBefore: nil))
        #expect(after.queued == 0 && after.inFlight == 0, "the next cell starts with the last cell's queue")
        #expect(after.peakInFlight == 0 && after.wasted == 0, "the next cell counts the last cell's work")
        try await admin.shutdown()
    }

    private func counters(_ figures: ServerFigures) throws -> MockServerCounters {
        try JSONDecoder().decode(MockServerCounters.self, from: Data(figures.countersJSON.utf8))
    }
}
