import Foundation

/// Finds the external programs the lab runs or compares against (wrk, nginx).
package enum ExternalTools {
    /// The full path of `name` on PATH (plus /usr/sbin and /sbin, where Debian puts nginx), or nil.
    package static func find(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for folder in path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin", "/usr/local/sbin"] {
            let candidate = (folder as NSString).appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
