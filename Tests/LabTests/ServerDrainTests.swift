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
        let inService = try await abandon(3, on: server, admin: admin, once: \.inFlight, reaches: 3)
        #expect(inService == 3, "the three requests never were in service together")

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
        let queued = try await abandon(4, on: server, admin: admin, once: \.queued, reaches: 3)
        #expect(queued == 3, "three requests never were queued together")

        try await server.configure(json: #"{"latency":{"kind":"fixed","ms":1}}"#, client: admin)
        let after = try counters(await server.figures(client: admin, cpuBefore: nil))
        #expect(after.queued == 0 && after.inFlight == 0, "the next cell starts with the last cell's queue")
        #expect(after.peakInFlight == 0 && after.wasted == 0, "the next cell counts the last cell's work")
        try await admin.shutdown()
    }

    /// Sends `count` requests, each on its own connection, waits (up to 5 s) until the server's `counter` reaches
    /// `target`, then closes the connections, as a client that gives up does. Returns the counter's last value.
    private func abandon(
        _ count: Int, on server: MockServerProcess, admin: HTTPClient, once counter: KeyPath<MockServerCounters, Int>,
        reaches target: Int
    ) async throws -> Int {
        var clients: [TestConnection] = []
        for _ in 0..<count {
            let client = try TestConnection(port: port(of: server.baseURL))
            try client.send("GET /get HTTP/1.1\r\nHost: test\r\n\r\n")
            clients.append(client)
        }
        var value = 0
        for _ in 0..<500 where value < target {
            value = try counters(await server.figures(client: admin, cpuBefore: nil))[keyPath: counter]
            if value < target { try await Task.sleep(for: .milliseconds(10)) }
        }
        clients.removeAll()
        return value
    }

    private func counters(_ figures: ServerFigures) throws -> MockServerCounters {
        try JSONDecoder().decode(MockServerCounters.self, from: Data(figures.countersJSON.utf8))
    }
}
