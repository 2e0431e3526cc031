/// Minimal JSON text helpers, written for the `/get` hot path: they append to one string.
enum JSON {
    /// `text` as a JSON string literal, quotes included.
    static func quote(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count + 2)
        appendQuoted(text, to: &out)
        return out
    }

    /// Appends `text` as a JSON string literal, quotes included.
    static func appendQuoted(_ text: String, to out: inout String) {
        out.append("\"")
        let needsEscape = text.utf8.contains { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }
        guard needsEscape else {
            out.append(text)
            out.append("\"")
            return
        }
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out.append("\\\"")
            case "\\": out.append("\\\\")
            case "\n": out.append("\\n")
            case "\r": out.append("\\r")
            case "\t": out.append("\\t")
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out.append("\\u" + String(repeating: "0", count: 4 - hex.count) + hex)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out.append("\"")
    }

    /// A JSON object of string pairs; a name given more than once maps to an array of its values, in order.
    static func object(_ pairs: [(String, String)]) -> String {
        var out = ""
        appendObject(pairs, to: &out)
        return out
    }

    /// Appends the object `object(_:)` describes. Quadratic in the number of pairs, which is small.
    static func appendObject(_ pairs: [(String, String)], to out: inout String) {
        out.append("{")
        var first = true
        for index in pairs.indices {
            let name = pairs[index].0
            if pairs[..<index].contains(where: { $0.0 == name }) { continue }  // already written
            if !first { out.append(",") }
            first = false
            appendQuoted(name, to: &out)
            out.append(":")
            let repeated = pairs[(index + 1)...].contains { $0.0 == name }
            if repeated {
                out.append("[")
                var firstValue = true
                for pair in pairs[index...] where pair.0 == name {
                    if !firstValue { out.append(",") }
                    firstValue = false
                    appendQuoted(pair.1, to: &out)
                }
                out.append("]")
            } else {
                appendQuoted(pairs[index].1, to: &out)
            }
        }
        out.append("}")
    }
}
