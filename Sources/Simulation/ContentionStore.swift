/// The simulated server's `/contention/{key}` store, as `ServerCore` keeps it: a version per key, 0 until the
/// key's first write commits. Keys are interned once, so a write in the hot path is an array access.
struct ContentionStore {
    /// What a write's commit gave.
    enum Outcome: UInt8 {
        /// Not a contention write (another endpoint, or a fault answered instead).
        case none
        /// Read its version when its service started; commits when the service ends.
        case pending
        /// Committed: the key's version moved on by one.
        case committed
        /// Another write committed since this one read: 409.
        case conflict
    }

    private var indices: [String: Int32] = [:]
    private var versions: [UInt64] = []

    /// The index of `key`, added at version 0 if new.
    mutating func intern(_ key: String) -> Int32 {
        if let index = indices[key] { return index }
        let index = Int32(versions.count)
        indices[key] = index
        versions.append(0)
        return index
    }

    /// The current version of the key at `index` (`ServerCore.contentionVersion`).
    @inline(__always)
    func version(_ index: Int32) -> UInt64 {
        versions[Int(index)]
    }

    /// Commits a write to the key at `index` that read `seen` (`ServerCore.contentionCommit`): committed (and the
    /// version bumped) only if no other write landed since.
    @inline(__always)
    mutating func commit(_ index: Int32, seen: UInt64) -> Outcome {
        guard versions[Int(index)] == seen else { return .conflict }
        versions[Int(index)] = seen + 1
        return .committed
    }
}
