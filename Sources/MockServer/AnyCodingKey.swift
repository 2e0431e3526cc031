/// A coding key for any string, used to find keys a type does not know.
struct AnyCodingKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// Throws a `DecodingError` naming the first key of the decoder's object that is not in `allowed`.
func rejectUnknownKeys(_ decoder: any Decoder, allowed: [String]) throws {
    let container = try decoder.container(keyedBy: AnyCodingKey.self)
    for key in container.allKeys where !allowed.contains(key.stringValue) {
        throw DecodingError.dataCorruptedError(
            forKey: key, in: container,
            debugDescription: "unknown key '\(key.stringValue)'; allowed: \(allowed.joined(separator: ", "))"
        )
    }
}
