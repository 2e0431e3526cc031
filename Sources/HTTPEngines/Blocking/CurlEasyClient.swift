import AsyncPatterns
import CCurl

/// A blocking HTTP/1.1 GET client over one libcurl easy handle. Not thread-safe: one per OS thread.
///
/// Pooled mode reuses the handle's connection (keep-alive); naive mode forbids reuse, so every request
/// opens a fresh connection. The body is counted and discarded.
final class CurlEasyClient {
    private let handle: UnsafeMutableRawPointer
    private let clock: RunClock
    private let shouldAbort: @Sendable () -> Bool
    /// Body bytes of the current transfer; written by the write callback.
    fileprivate var bodyBytes: Int64 = 0
    /// The current response's `Retry-After` value; written by the header callback.
    fileprivate var retryAfter: String?
    /// Evaluated by the progress callback: true aborts the transfer in flight.
    fileprivate var abortRequested: Bool { shouldAbort() }

    /// Creates a handle for `url` with the configuration's timeouts and pooling.
    /// - Throws: `CurlError` when libcurl cannot be initialised or a handle cannot be created.
    init(
        url: String, configuration: EngineConfiguration, clock: RunClock,
        shouldAbort: @escaping @Sendable () -> Bool = { false }
    ) throws(CurlError) {
        try CurlGlobal.ensureInitialized()
        guard let handle = curl_easy_init() else { throw CurlError.handleCreation }
        self.handle = handle
        self.clock = clock
        self.shouldAbort = shouldAbort
        let userdata = Unmanaged.passUnretained(self).toOpaque()
        _ = ccurl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        _ = url.withCString { ccurl_setopt_pointer(handle, CURLOPT_URL, $0) }
        _ = ccurl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, RunClock.milliseconds(configuration.connectTimeout))
        _ = ccurl_setopt_long(handle, CURLOPT_TIMEOUT_MS, RunClock.milliseconds(configuration.requestTimeout))
        _ = ccurl_setopt_long(handle, CURLOPT_TCP_NODELAY, 1)
        _ = ccurl_setopt_long(handle, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1)
        _ = ccurl_setopt_write_callback(handle, CURLOPT_WRITEFUNCTION, curlDiscardBody)
        _ = ccurl_setopt_pointer(handle, CURLOPT_WRITEDATA, userdata)
        _ = ccurl_setopt_write_callback(handle, CURLOPT_HEADERFUNCTION, curlCaptureHeader)
        _ = ccurl_setopt_pointer(handle, CURLOPT_HEADERDATA, userdata)
        _ = ccurl_setopt_long(handle, CURLOPT_NOPROGRESS, 0)
        _ = ccurl_setopt_xferinfo_callback(handle, curlProgress)
        _ = ccurl_setopt_pointer(handle, CURLOPT_XFERINFODATA, userdata)
        if configuration.pooling == .naive {
            _ = ccurl_setopt_long(handle, CURLOPT_FORBID_REUSE, 1)
            _ = ccurl_setopt_long(handle, CURLOPT_FRESH_CONNECT, 1)
        }
    }

    deinit {
        curl_easy_cleanup(handle)
        curl_slist_free_all(headers)
    }

    /// The header list of the transfer being prepared or in flight; freed when it ends.
    private var headers: UnsafeMutablePointer<curl_slist>?
    /// When the transfer in flight started, in ns on the run clock.
    private var startNs: Int64 = 0

    /// The raw easy handle, for adding to a multi handle between `prepare` and `finish`.
    var easyHandle: UnsafeMutableRawPointer { handle }

    /// Sends one GET with `X-Request-Id` and `X-Attempt` headers and blocks until it ends or times out.
    func send(requestID: Int64, attempt: Int32) -> TransportResult {
        prepare(requestID: requestID, attempt: attempt)
        return finish(curl_easy_perform(handle))
    }

    /// Sets the per-attempt headers and marks the start time; the caller then performs the transfer.
    func prepare(requestID: Int64, attempt: Int32) {
        curl_slist_free_all(headers)
        headers = curl_slist_append(nil, "X-Request-Id: \(requestID)")
        headers = curl_slist_append(headers, "X-Attempt: \(attempt)")
        _ = ccurl_setopt_pointer(handle, CURLOPT_HTTPHEADER, headers)
        bodyBytes = 0
        retryAfter = nil
        startNs = clock.now()
    }

    /// Builds the result of the transfer that `prepare` started and that ended with `code`.
    func finish(_ code: CURLcode) -> TransportResult {
        let endNs = clock.now()
        var status = 0
        _ = ccurl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        let errorClass = code == CURLE_OK ? ErrorClass(status: status) : Self.classify(code)
        return TransportResult(
            startNs: startNs, endNs: endNs, status: status, errorClass: errorClass, bytes: bodyBytes,
            retryAfter: retryAfter)
    }

    /// Maps a libcurl transfer error to the lab's error classes.
    static func classify(_ code: CURLcode) -> ErrorClass {
        switch code {
        case CURLE_OPERATION_TIMEDOUT: return .timeout
        case CURLE_COULDNT_CONNECT: return .refused
        case CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE: return .reset
        case CURLE_ABORTED_BY_CALLBACK: return .cancelled
        default: return .other
        }
    }
}

/// CURLOPT_WRITEFUNCTION: counts the body bytes and discards them.
private func curlDiscardBody(
    _ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ userdata: UnsafeMutableRawPointer?
) -> Int {
    let length = size * count
    if let userdata {
        Unmanaged<CurlEasyClient>.fromOpaque(userdata).takeUnretainedValue().bodyBytes += Int64(length)
    }
    return length
}

/// CURLOPT_HEADERFUNCTION: keeps the `Retry-After` value of the last response.
private func curlCaptureHeader(
    _ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ userdata: UnsafeMutableRawPointer?
) -> Int {
    let length = size * count
    guard let data, let userdata, length > 12 else { return length }
    let bytes = UnsafeRawBufferPointer(start: data, count: length)
    let name = "retry-after:".utf8
    guard zip(bytes.prefix(name.count), name).allSatisfy({ ($0 | 0x20) == $1 }) else { return length }
    let value = String(decoding: bytes.dropFirst(name.count), as: UTF8.self)
    let client = Unmanaged<CurlEasyClient>.fromOpaque(userdata).takeUnretainedValue()
    client.retryAfter = value.trimmingWhitespace()
    return length
}

/// CURLOPT_XFERINFOFUNCTION: aborts the transfer when the run is being torn down.
private func curlProgress(
    _ userdata: UnsafeMutableRawPointer?, _ dltotal: curl_off_t, _ dlnow: curl_off_t, _ ultotal: curl_off_t,
    _ ulnow: curl_off_t
) -> Int32 {
    guard let userdata else { return 0 }
    return Unmanaged<CurlEasyClient>.fromOpaque(userdata).takeUnretainedValue().abortRequested ? 1 : 0
}

extension String {
    /// The string without leading and trailing spaces, tabs, CR and LF.
    fileprivate func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" || $0 == "\r\n" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
