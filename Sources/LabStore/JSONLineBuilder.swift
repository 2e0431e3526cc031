/// Appends JSON to a byte buffer without building intermediate strings.
struct JSONLineBuilder {
    var bytes: [UInt8]

    @inline(__always)
    mutating func begin(_ type: StaticString) {
        bytes.append(contentsOf: #"{"type":""#.utf8)
        bytes.append(contentsOf: UnsafeBufferPointer(start: type.utf8Start, count: type.utf8CodeUnitCount))
        bytes.append(UInt8(ascii: "\""))
    }

    @inline(__always)
    mutating func end() {
        bytes.append(UInt8(ascii: "}"))
        bytes.append(UInt8(ascii: "\n"))
    }

    @inline(__always)
    private mutating func key(_ name: StaticString) {
        bytes.append(UInt8(ascii: ","))
        bytes.append(UInt8(ascii: "\""))
        bytes.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
    }

    mutating func field(_ name: StaticString, _ value: Int64) {
        key(name)
        appendInteger(value.magnitude, negative: value < 0)
    }

    mutating func field(_ name: StaticString, _ value: UInt64) {
        key(name)
        appendInteger(value, negative: false)
    }

    mutating func field(_ name: StaticString, _ value: UInt64?) {
        guard let value else { return null(name) }
        field(name, value)
    }

    mutating func field(_ name: StaticString, _ value: Int64?) {
        guard let value else { return null(name) }
        field(name, value)
    }

    mutating func field(_ name: StaticString, _ value: Bool) {
        key(name)
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
    }

    mutating func field(_ name: StaticString, _ value: Double?) {
        key(name)
        guard let value, value.isFinite else {
            bytes.append(contentsOf: "null".utf8)
            return
        }
        // Swift's description is the shortest text that reads back to the same Double, and valid JSON.
        bytes.append(contentsOf: value.description.utf8)
    }

    mutating func field(_ name: StaticString, _ value: String?) {
        guard let value else { return null(name) }
        key(name)
        appendString(value)
    }

    mutating func field(_ name: StaticString, _ value: String) {
        key(name)
        appendString(value)
    }

    private mutating func null(_ name: StaticString) {
        key(name)
        bytes.append(contentsOf: "null".utf8)
    }

    @inline(__always)
    private mutating func appendInteger(_ magnitude: UInt64, negative: Bool) {
        if negative { bytes.append(UInt8(ascii: "-")) }
        if magnitude < 10 {
            bytes.append(UInt8(ascii: "0") &+ UInt8(magnitude))
            return
        }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var value = magnitude
            var index = 20
            while value > 0 {
                index -= 1
                digits[index] = UInt8(ascii: "0") &+ UInt8(value % 10)
                value /= 10
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: digits[index..<20]))
        }
    }

    private mutating func appendString(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: #"\""#.utf8)
            case UInt8(ascii: "\\"): bytes.append(contentsOf: #"\\"#.utf8)
            case UInt8(ascii: "\n"): bytes.append(contentsOf: #"\n"#.utf8)
            case UInt8(ascii: "\r"): bytes.append(contentsOf: #"\r"#.utf8)
            case UInt8(ascii: "\t"): bytes.append(contentsOf: #"\t"#.utf8)
            case 0..<0x20:
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: #"\u00"#.utf8)
                bytes.append(hex[Int(byte >> 4)])
                bytes.append(hex[Int(byte & 0xF)])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
