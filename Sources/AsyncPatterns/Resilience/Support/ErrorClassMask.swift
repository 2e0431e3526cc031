/// A set of error classes as a bit mask: membership without hashing (`Set<ErrorClass>` hashes the raw string).
struct ErrorClassMask: Sendable, Hashable {
    private var bits: UInt64 = 0

    init(_ classes: some Sequence<ErrorClass>) {
        for errorClass in classes { bits |= Self.bit(errorClass) }
    }

    @inline(__always)
    static func bit(_ errorClass: ErrorClass) -> UInt64 {
        switch errorClass {
        case .ok: 1 << 0
        case .http4xx: 1 << 1
        case .http429: 1 << 2
        case .http5xx: 1 << 3
        case .timeout: 1 << 4
        case .refused: 1 << 5
        case .reset: 1 << 6
        case .circuitOpen: 1 << 7
        case .budgetExhausted: 1 << 8
        case .throttled: 1 << 9
        case .limiterTimeout: 1 << 10
        case .cancelled: 1 << 11
        case .other: 1 << 12
        }
    }

    @inline(__always)
    func contains(_ errorClass: ErrorClass) -> Bool {
        bits & Self.bit(errorClass) != 0
    }
}
