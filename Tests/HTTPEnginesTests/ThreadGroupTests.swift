import Foundation
import Synchronization
import Testing

@testable import HTTPEngines

@Suite("Blocking engines' threads", .timeLimit(.minutes(1)))
struct ThreadGroupTests {
    @Test("every thread runs its body once, under its own name")
    func runsAll() async throws {
        let ran = Mutex<[Int]>([])
        try await ThreadGroup.run(count: 16, name: "test", refused: {}) { index in
            ran.withLock { $0.append(index) }
        }
        #expect(ran.withLock { $0.sorted() } == Array(0..<16))
    }

    @Test("a refused thread stops the group: the started ones finish, then the error names the counts and errno")
    func refusal() async {
        let ran = Mutex<[Int]>([])
        let refusedCalls = Mutex(0)
        var spawned = 0
        await #expect {
            try await ThreadGroup.run(
                count: 10, name: "test",
                spawn: { name, body in
                    defer { spawned += 1 }
                    return spawned == 3 ? EAGAIN : ThreadGroup.spawnDetached(name: name, body: body)
                },
                refused: { refusedCalls.withLock { $0 += 1 } }
            ) { index in
                ran.withLock { $0.append(index) }
            }
        } throws: { error in
            guard let error = error as? ThreadCreationError else { return false }
            return error.started == 3 && error.requested == 10 && error.errno == EAGAIN
                && error.description.contains("thread 4 of 10") && error.description.contains("ulimit -u")
        }
        #expect(ran.withLock { $0.sorted() } == [0, 1, 2])
        #expect(refusedCalls.withLock { $0 } == 1)
    }
}
