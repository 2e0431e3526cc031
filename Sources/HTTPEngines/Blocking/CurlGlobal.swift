import CCurl

/// libcurl's process-wide initialisation, done once before any handle or thread exists.
enum CurlGlobal {
    /// The result of the one `curl_global_init` call; Swift runs a global's initialiser exactly once.
    private static let initResult: CURLcode = curl_global_init(Int(CURL_GLOBAL_ALL))

    /// Initialises libcurl if it is not yet; call on the engine's calling thread before starting workers.
    static func ensureInitialized() throws(CurlError) {
        guard initResult == CURLE_OK else { throw CurlError.globalInit(initResult) }
    }
}

/// A libcurl setup failure. Transfer errors are not thrown: they become an `ErrorClass` on the sample.
public struct CurlError: Error, CustomStringConvertible, Sendable {
    /// What went wrong and how to fix it.
    public let description: String

    static func globalInit(_ code: CURLcode) -> CurlError {
        CurlError(
            description: "curl_global_init failed (\(String(cString: curl_easy_strerror(code)))); "
                + "check that libcurl4-openssl-dev is installed and that memory is available")
    }

    static let handleCreation = CurlError(
        description: "curl_easy_init returned NULL; the process is probably out of memory or file descriptors")
}
