import Crypto

/// SHA-256 as lowercase hex, used to fingerprint spec files and to derive stable cell ids. The digest comes from
/// swift-crypto; this enum only fixes the input encoding (UTF-8) and the spelling (lowercase hex) the stored ids use.
package enum SHA256 {
    /// The digest of `text`'s UTF-8 bytes as 64 lowercase hex digits.
    package static func hex(_ text: String) -> String {
        Crypto.SHA256.hash(data: Array(text.utf8)).map { byte in
            let digits = String(byte, radix: 16)
            return byte < 0x10 ? "0" + digits : digits
        }.joined()
    }
}
