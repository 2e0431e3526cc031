import NIOCore
import NIOHTTP1
import Testing

@testable import MockServer

/// The connection state machine on its own: each event in, the actions out. No channel, no clock.
@Suite struct ConnectionStateMachineTests {
    typealias Machine = HTTPConnectionHandler.StateMachine

    static func head(
        _ uri: String, method: HTTPMethod = .GET, version: HTTPVersion = .http1_1, headers: [(String, String)] = []
    ) -> HTTPRequestHead {
        HTTPRequestHead(version: version, method: method, uri: uri, headers: HTTPHeaders(headers))
    }

    /// Feeds a whole request (head, then end) to an idle machine and returns the request it hands over to serve.
    static func receive(
        _ head: HTTPRequestHead, into machine: inout Machine, sourceLocation: SourceLocation = #_sourceLocation
    ) -> HTTPConnectionHandler.AssembledRequest? {
        #expect(machine.partReceived(.head(head)) == .startRequest(sendContinue: false), sourceLocation: sourceLocation)
        guard case .serve(let request) = machine.partReceived(.end(nil)) else {
            Issue.record("the end of a request must hand it over to serve", sourceLocation: sourceLocation)
            return nil
        }
        return request
    }

    @Test func keepAliveRequestIsServedAndTheConnectionStaysOpen() {
        var machine = Machine()
        let head = Self.head("/get")
        let request = Self.receive(head, into: &machine)
        #expect(request == .init(head: head, body: nil, bodyTooLarge: false, keepAlive: true))
        #expect(machine.isProcessing)
        #expect(machine.responseReady() == .write)
        #expect(machine.nextPendingAction() == nil)
        #expect(!machine.isProcessing && !machine.isClosed)
        // The next request on the same connection is served too.
        #expect(Self.receive(Self.head("/health"), into: &machine)?.head.uri == "/health")
    }

    @Test(arguments: [
        (HTTPVersion.http1_1, [("Connection", "close")]),
        (HTTPVersion.http1_0, []),
    ])
    func requestWithoutKeepAliveClosesAfterItsResponse(version: HTTPVersion, headers: [(String, String)]) {
        var machine = Machine()
        let request = Self.receive(Self.head("/get", version: version, headers: headers), into: &machine)
        #expect(request?.keepAlive == false)
        #expect(machine.responseReady() == .writeAndClose)
        #expect(machine.isClosed)
        #expect(machine.nextPendingAction() == nil)
        // Whatever arrives after is ignored.
        #expect(machine.partReceived(.head(Self.head("/get"))) == .wait)
    }

    @Test func http10KeepAliveStaysOpen() {
        var machine = Machine()
        let request = Self.receive(
            Self.head("/get", version: .http1_0, headers: [("Connection", "keep-alive")]), into: &machine)
        #expect(request?.keepAlive == true)
        #expect(machine.responseReady() == .write)
    }

    @Test func pipelinedRequestsWaitAndAreServedInOrderAfterEachResponse() {
        var machine = Machine()
        _ = Self.receive(Self.head("/first"), into: &machine)
        // A second and third request arrive while the first is in service: held back, reads deferred.
        let second = Self.head("/second")
        let third = Self.head("/third")
        for part: HTTPServerRequestPart in [.head(second), .end(nil), .head(third), .end(nil)] {
            #expect(machine.partReceived(part) == .wait)
        }
        #expect(machine.readRequested() == .wait)
        #expect(machine.readComplete(headBytesPending: true) == .wait)

        #expect(machine.responseReady() == .write)
        #expect(machine.nextPendingAction() == .startRequest(sendContinue: false))
        #expect(
            machine.nextPendingAction() == .serve(.init(head: second, body: nil, bodyTooLarge: false, keepAlive: true)))
        // The second is in service now: the third still waits, and so does the read.
        #expect(machine.nextPendingAction() == nil)
        #expect(machine.isProcessing)

        #expect(machine.responseReady() == .write)
        #expect(machine.nextPendingAction() == .startRequest(sendContinue: false))
        #expect(
            machine.nextPendingAction() == .serve(.init(head: third, body: nil, bodyTooLarge: false, keepAlive: true)))
        #expect(machine.nextPendingAction() == nil)

        #expect(machine.responseReady() == .write)
        // Nothing is left: the deferred read goes out once.
        #expect(machine.nextPendingAction() == .read)
        #expect(machine.nextPendingAction() == nil)
        #expect(machine.readRequested() == .read)
    }

    @Test func partOfAPipelinedRequestLeavesTheMachineReceiving() {
        var machine = Machine()
        _ = Self.receive(Self.head("/first"), into: &machine)
        #expect(machine.partReceived(.head(Self.head("/second"))) == .wait)
        #expect(machine.responseReady() == .write)
        #expect(machine.nextPendingAction() == .startRequest(sendContinue: false))
        #expect(machine.nextPendingAction() == nil)
        // Waiting for the rest of the second request, which is late: the timer starts, then answers 408.
        #expect(machine.readComplete(headBytesPending: false) == .startTimer)
        #expect(machine.timerFired() == .refuse(status: 408, message: "request not received in time"))
        #expect(machine.isClosed)
    }

    @Test func channelClosingMidResponseDropsTheResponseAndWhatWaited() {
        var machine = Machine()
        _ = Self.receive(Self.head("/delay/1"), into: &machine)
        #expect(machine.partReceived(.head(Self.head("/get"))) == .wait)
        #expect(machine.partReceived(.end(nil)) == .wait)
        machine.channelInactive()
        #expect(machine.isClosed)
        #expect(machine.responseReady() == .drop)
        #expect(machine.nextPendingAction() == nil)
        #expect(machine.partReceived(.head(Self.head("/get"))) == .wait)
        #expect(machine.timerFired() == .wait)
        #expect(machine.errorCaught(HTTPParserError.invalidHeaderToken) == .wait)
    }

    @Test func resetDuringServiceClosesOnceAndDropsTheResponse() {
        var machine = Machine()
        _ = Self.receive(Self.head("/get"), into: &machine)
        #expect(machine.resetRequested() == .close)
        #expect(machine.resetRequested() == .wait)
        #expect(machine.responseReady() == .drop)
    }

    @Test func requestTimerStartsOnceForAPartialRequestAndAnswers408() {
        var machine = Machine()
        // Idle with no bytes of a next head: nothing to time.
        #expect(machine.readComplete(headBytesPending: false) == .wait)
        // Bytes of a head arrived but it is not complete yet.
        #expect(machine.readComplete(headBytesPending: true) == .startTimer)
        #expect(machine.readComplete(headBytesPending: true) == .wait)
        #expect(machine.timerFired() == .refuse(status: 408, message: "request not received in time"))
        #expect(machine.isClosed)
        #expect(machine.readComplete(headBytesPending: true) == .wait)
    }

    @Test func completeRequestStopsTheTimerAndItsFiringIsIgnored() {
        var machine = Machine()
        #expect(machine.partReceived(.head(Self.head("/get"))) == .startRequest(sendContinue: false))
        #expect(machine.readComplete(headBytesPending: false) == .startTimer)
        guard case .serve = machine.partReceived(.end(nil)) else {
            Issue.record("expected serve")
            return
        }
        // A timer that fires late, while the request is in service, changes nothing.
        #expect(machine.timerFired() == .wait)
        #expect(machine.isProcessing)
        #expect(machine.responseReady() == .write)
        // The next partial request starts a new timer.
        #expect(machine.partReceived(.head(Self.head("/get"))) == .startRequest(sendContinue: false))
        #expect(machine.readComplete(headBytesPending: false) == .startTimer)
    }

    @Test func parserErrorsAreAnsweredAndOtherErrorsClose() {
        var overflow = Machine()
        #expect(
            overflow.errorCaught(HTTPParserError.headerOverflow)
                == .refuse(status: 431, message: "request headers are limited to 65536 bytes"))
        #expect(overflow.isClosed)
        #expect(overflow.errorCaught(HTTPParserError.headerOverflow) == .wait)

        var malformed = Machine()
        guard case .refuse(let status, let message) = malformed.errorCaught(HTTPParserError.invalidMethod) else {
            Issue.record("a parser error must be answered")
            return
        }
        #expect(status == 400)
        #expect(message.hasPrefix("malformed HTTP request: "))

        struct Other: Error {}
        var other = Machine()
        #expect(other.errorCaught(Other()) == .close)
        #expect(other.isClosed)

        // In service, even a parser error closes: a response is on its way.
        var busy = Machine()
        _ = Self.receive(Self.head("/get"), into: &busy)
        #expect(busy.errorCaught(HTTPParserError.invalidMethod) == .close)
        #expect(busy.responseReady() == .drop)
    }

    @Test func expectContinueIsAnsweredForRequestsWithABodyOnly() {
        let expect = [("Expect", "100-Continue")]
        var put = Machine()
        #expect(
            put.partReceived(.head(Self.head("/__admin/config", method: .PUT, headers: expect)))
                == .startRequest(sendContinue: true))
        var get = Machine()
        #expect(get.partReceived(.head(Self.head("/get", headers: expect))) == .startRequest(sendContinue: false))
    }

    @Test func adminBodyIsKeptUpTo1MiBAndOtherBodiesAreDropped() {
        var machine = Machine()
        #expect(
            machine.partReceived(.head(Self.head("/__admin/config", method: .PUT)))
                == .startRequest(sendContinue: false))
        #expect(machine.partReceived(.body(ByteBuffer(string: #"{"seed":"#))) == .wait)
        #expect(machine.partReceived(.body(ByteBuffer(string: "7}"))) == .wait)
        guard case .serve(let request) = machine.partReceived(.end(nil)) else {
            Issue.record("expected serve")
            return
        }
        #expect(request.body == ByteBuffer(string: #"{"seed":7}"#))
        #expect(!request.bodyTooLarge)
        #expect(machine.responseReady() == .write)

        // Over 1 MiB: flagged, and the chunk that crossed the limit is not kept.
        #expect(
            machine.partReceived(.head(Self.head("/__admin/config", method: .PUT)))
                == .startRequest(sendContinue: false))
        let chunk = ByteBuffer(repeating: UInt8(ascii: " "), count: Machine.maximumBody / 2 + 1)
        #expect(machine.partReceived(.body(chunk)) == .wait)
        #expect(machine.partReceived(.body(chunk)) == .wait)
        guard case .serve(let big) = machine.partReceived(.end(nil)) else {
            Issue.record("expected serve")
            return
        }
        #expect(big.bodyTooLarge)
        #expect(big.body?.readableBytes == chunk.readableBytes)
        #expect(machine.responseReady() == .write)

        // Not an admin PUT: the body is dropped, and the flags of the last request are not carried over.
        #expect(
            machine.partReceived(.head(Self.head("/contention/k", method: .PUT))) == .startRequest(sendContinue: false))
        #expect(machine.partReceived(.body(ByteBuffer(string: "ignored"))) == .wait)
        guard case .serve(let other) = machine.partReceived(.end(nil)) else {
            Issue.record("expected serve")
            return
        }
        #expect(other.body == nil)
        #expect(!other.bodyTooLarge)
    }

    @Test func bodyOrEndWithoutAHeadIsIgnored() {
        var machine = Machine()
        #expect(machine.partReceived(.body(ByteBuffer(string: "x"))) == .wait)
        #expect(machine.partReceived(.end(nil)) == .wait)
        #expect(!machine.isProcessing)
        #expect(machine.readRequested() == .read)
    }
}
