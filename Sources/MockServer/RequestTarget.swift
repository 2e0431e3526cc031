/// Splits a request target into path and query, and decodes query parameters.
enum RequestTarget {
    /// The path (before `?`) and the query (after it, empty if none).
    static func split(_ uri: String) -> (path: Substring, query: Substring) {
        guard let mark = uri.utf8.firstIndex(of: UInt8(ascii: "?")) else { return (uri[...], "") }
        return (uri[..<mark], uri[uri.index(after: mark)...])
    }

    /// The decoded `name=value` pairs of a query string, in order.
    static func parameters(_ query: Substring) -> [(String, String)] {
        guard !query.isEmpty else { return [] }
        var result: [(String, String)] = []
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            if let equals = pair.firstIndex(of: "=") {
                result.append((percentDecode(pair[..<equals]), percentDecode(pair[pair.index(after: equals)...])))
            } else {
                result.append((percentDecode(pair), ""))
            }
        }
        return result
    }

    /// The first value of parameter `name`, decoded.
    static func parameter(_ name: String, in query: Substring) -> String? {
        guard !query.isEmpty else { return nil }
        for pair in query.split(separator: "&") {
            let equals = pair.firstIndex(of: "=") ?? pair.endIndex
            if percentDecode(pair[..<equals]) == name {
                return equals == pair.endIndex ? "" : percentDecode(pair[pair.index(after: equals)...])
            }
        }
        return nil
    }

    /// Decodes `%XX` escapes and `+` as space; invalid escapes are kept as they are.
    static func percentDecode(_ text: Substring) -> String {
        let utf8 = Array(text.utf8)
        guard utf8.contains(UInt8(ascii: "%")) || utf8.contains(UInt8(ascii: "+")) else { return String(text) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count)
        var i = 0
        while i < utf8.count {
            let byte = utf8[i]
            if byte == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%"), i + 2 < utf8.count,
                let high = hexValue(utf8[i + 1]), let low = hexValue(utf8[i + 2])
            {
                bytes.append(high << 4 | low)
                i += 2
            } else {
                bytes.append(byte)
            }
            i += 1
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
