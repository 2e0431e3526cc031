/// Polls `condition` every millisecond until it holds, for at most `limit` (generous: only a broken component misses
/// it), and returns whether it held. Suspends between polls, so it never ties up a thread of the (2-thread)
/// concurrency pool that other tests need. Used to wait for an event, never to assert a duration.
@discardableResult
public func waitUntil(within limit: Duration = .seconds(30), _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now.advanced(by: limit)
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(1))
    }
    return condition()
}
