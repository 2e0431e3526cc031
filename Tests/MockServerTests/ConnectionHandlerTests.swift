import NIOCore
import NIOEmbedded
import Testing

@testable import MockServer

/// The thin channel handler in the server's real pipeline, on an `EmbeddedChannel`: bytes in, bytes out, time
/// advanced by hand.
@Suite struct ConnectionHandlerTests {
    /// A connected channel with the server's pipeline, and the core it counts into.
    static func channel(_ configuration: MockServerConfiguration = .init()) throws -> (EmbeddedChannel, ServerCore) {
        let core = ServerCore(configuration: configuration)
        let channel = EmbeddedChannel()
        try MockServer.configurePipeline(channel.pipeline.syncOperations, core: core)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return (channel, core)
    }

    /// Everything written so far, as text.
    static func written(_ channel: EmbeddedChannel) throws -> String {
        try responses(channel).joined()
    }

    /// Each buffer written so far, as text: one per response.
    static func responses(_ channel: EmbeddedChannel) throws -> [String] {
        var responses: [String] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) {
            responses.append(String(buffer: buffer))
        }
        return responses
    }

    /// The status line of each response.
    static func statusLines(_ responses: [String]) -> [String] {
        responses.map { $0.components(separatedBy: "\r\n").first ?? "" }
    }

    @Test func pipelinedRequestsAreAnsweredInOrderOnAnOpenConnection() throws {
        let (channel, core) = try Self.channel()
        try channel.writeInbound(
            ByteBuffer(
                string: "GET /health HTTP/1.1\r\nHost: x\r\n\r\n" + "GET /status/404 HTTP/1.1\r\nHost: x\r\n\r\n"
                    + "GET /get?a=1 HTTP/1.1\r\nHost: x\r\n\r\n"))
        let responses = try Self.responses(channel)
        let text = responses.joined()
        #expect(Self.statusLines(responses) == ["HTTP/1.1 200 OK", "HTTP/1.1 404 Not Found", "HTTP/1.1 200 OK"])
        #expect(text.contains(#"{"args":{"a":"1"},"#))
        #expect(!text.contains("Connection: close"))
        #expect(channel.isActive)
        #expect(core.counters().requests == 3)
        #expect(try channel.finish(acceptAlreadyClosed: true).isClean)
    }

    @Test func connectionCloseIsAnsweredThenClosed() throws {
        let (channel, _) = try Self.channel()
        try channel.writeInbound(ByteBuffer(string: "GET /get HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
        channel.embeddedEventLoop.run()
        let responses = try Self.responses(channel)
        let text = responses.joined()
        #expect(Self.statusLines(responses) == ["HTTP/1.1 200 OK"])
        #expect(text.contains("Connection: close\r\n"))
        #expect(!channel.isActive)
    }

    @Test func latencyIsWaitedOnTheEventLoopAndTheNextRequestWaitsBehindIt() throws {
        let (channel, core) = try Self.channel(.init(latency: .fixed(ms: 50)))
        try channel.writeInbound(
            ByteBuffer(string: "GET /get HTTP/1.1\r\nHost: x\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n\r\n"))
        #expect(try Self.written(channel).isEmpty)
        #expect(core.counters().inFlight == 1)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(49))
        #expect(try Self.written(channel).isEmpty)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1))
        // The delayed /get, then the /health that was pipelined behind it.
        let responses = try Self.responses(channel)
        let text = responses.joined()
        #expect(Self.statusLines(responses) == ["HTTP/1.1 200 OK", "HTTP/1.1 200 OK"])
        #expect(text.hasSuffix(#"{"status":"ok"}"#))
        #expect(core.counters().inFlight == 0)
        _ = try channel.finish(acceptAlreadyClosed: true)
    }

    @Test func partialRequestTimesOutWith408() throws {
        let (channel, core) = try Self.channel(.init(requestTimeoutMs: 200))
        try channel.writeInbound(ByteBuffer(string: "GET /health HTTP/1.1\r\nHost: x\r\nX-Partial: "))
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(199))
        #expect(try Self.written(channel).isEmpty)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1))
        let responses = try Self.responses(channel)
        #expect(Self.statusLines(responses) == ["HTTP/1.1 408 Request Timeout"])
        #expect(!channel.isActive)
        #expect(core.counters().byStatus["408"] == 1)
    }

    @Test func resetFaultClosesWithoutAnAnswer() throws {
        let (channel, core) = try Self.channel(.init(errorRate: 1, faults: .only(.reset)))
        try channel.writeInbound(ByteBuffer(string: "GET /get HTTP/1.1\r\nHost: x\r\n\r\n"))
        channel.embeddedEventLoop.run()
        #expect(try Self.written(channel).isEmpty)
        #expect(!channel.isActive)
        #expect(core.counters().byFault["reset"] == 1)
    }

    @Test func adminConfigBodyIsAppliedAfter100Continue() throws {
        let (channel, core) = try Self.channel()
        let body = #"{"seed":9}"#
        try channel.writeInbound(
            ByteBuffer(
                string: "PUT /__admin/config HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                    + "Content-Length: \(body.utf8.count)\r\n\r\n"))
        #expect(try Self.written(channel) == "HTTP/1.1 100 Continue\r\n\r\n")
        try channel.writeInbound(ByteBuffer(string: body))
        let responses = try Self.responses(channel)
        #expect(Self.statusLines(responses) == ["HTTP/1.1 200 OK"])
        #expect(core.configuration.seed == 9)
        // Admin requests are not counted.
        #expect(core.counters().requests == 0)
        _ = try channel.finish(acceptAlreadyClosed: true)
    }

    @Test func malformedRequestIsAnswered400AndClosed() throws {
        let (channel, _) = try Self.channel()
        _ = try? channel.writeInbound(ByteBuffer(string: "\u{0}\u{1}GARBAGE\r\n\r\n"))
        channel.embeddedEventLoop.run()
        let responses = try Self.responses(channel)
        #expect(Self.statusLines(responses) == ["HTTP/1.1 400 Bad Request"])
        #expect(!channel.isActive)
    }
}
