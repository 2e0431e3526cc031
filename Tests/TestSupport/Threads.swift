import Foundation
import Synchronization

/// Runs blocking work on its own thread, so the test does not hold a cooperative-pool thread.
public func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread {
            continuation.resume(with: Result { try body() })
        }
    }
}

/// Runs `work(i)` for every i in `0..<count` on `threads` threads; each thread takes the next index.
public func onThreads(_ threads: Int, count: Int, _ work: @escaping @Sendable (Int) -> Void) async {
    let counter = TestCounter()
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
        let group = DispatchGroup()
        for _ in 0..<threads {
            group.enter()
            Thread.detachNewThread {
                while case let i = counter.next(), i < count {
                    work(i)
                }
                group.leave()
            }
        }
        group.notify(queue: .global()) { continuation.resume() }
    }
}

/// A thread-safe counter.
public final class TestCounter: Sendable {
    private let value = Mutex(0)

    /// Creates a counter at zero.
    public init() {}

    /// Returns the current value and increments it.
    public func next() -> Int {
        value.withLock { value in
            defer { value += 1 }
            return value
        }
    }
}

/// A thread-safe list.
public final class TestList<Element: Sendable>: Sendable {
    private let items = Mutex<[Element]>([])

    /// Creates an empty list.
    public init() {}

    /// Appends `item` at the end.
    public func append(_ item: Element) {
        items.withLock { $0.append(item) }
    }

    /// Appends every item of `more` at the end, in order.
    public func append(contentsOf more: [Element]) {
        items.withLock { $0.append(contentsOf: more) }
    }

    /// Every item, in the order appended.
    public var all: [Element] {
        items.withLock { $0 }
    }

    /// How many items there are.
    public var count: Int {
        items.withLock { $0.count }
    }
}
