import AsyncPatterns
import NIOCore
import NIOHTTP1

/// Serialises HTTP/1.1 responses straight into bytes (no `HTTPResponseEncoder` on the hot path).
enum ResponseWriter {
    /// The body of `/health`.
    static let healthBody = #"{"status":"ok"}"#

    /// The whole `/health` response for a keep-alive HTTP/1.1 request, built once.
    static let healthResponse: ByteBuffer = {
        var buffer = ByteBufferAllocator().buffer(capacity: 96)
        writeHead(
            into: &buffer, status: 200, contentType: "application/json", contentLength: healthBody.utf8.count,
            keepAlive: true, http10: false)
        buffer.writeString(healthBody)
        return buffer
    }()

    /// The interim answer to `Expect: 100-continue`.
    static let continueResponse = ByteBuffer(string: "HTTP/1.1 100 Continue\r\n\r\n")

    /// Writes the status line and headers, up to and including the blank line.
    static func writeHead(
        into buffer: inout ByteBuffer, status: Int, contentType: String?, contentLength: Int, keepAlive: Bool,
        http10: Bool, extraHeaders: [(String, String)] = []
    ) {
        buffer.writeStaticString("HTTP/1.1 ")
        buffer.writeString(String(status))
        buffer.writeStaticString(" ")
        buffer.writeString(HTTPResponseStatus(statusCode: status).reasonPhrase)
        buffer.writeStaticString("\r\nServer: mock-server\r\n")
        if let contentType {
            buffer.writeStaticString("Content-Type: ")
            buffer.writeString(contentType)
            buffer.writeStaticString("\r\n")
        }
        buffer.writeStaticString("Content-Length: ")
        buffer.writeString(String(contentLength))
        buffer.writeStaticString("\r\n")
        for (name, value) in extraHeaders {
            buffer.writeString(name)
            buffer.writeStaticString(": ")
            buffer.writeString(value)
            buffer.writeStaticString("\r\n")
        }
        if !keepAlive {
            buffer.writeStaticString("Connection: close\r\n")
        } else if http10 {
            buffer.writeStaticString("Connection: keep-alive\r\n")
        }
        buffer.writeStaticString("\r\n")
    }

    /// A complete response with a text body.
    static func response(
        allocator: ByteBufferAllocator, status: Int, contentType: String? = "application/json", body: String,
        keepAlive: Bool, http10: Bool, extraHeaders: [(String, String)] = []
    ) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 160 + body.utf8.count)
        writeHead(
            into: &buffer, status: status, contentType: body.isEmpty ? nil : contentType,
            contentLength: body.utf8.count, keepAlive: keepAlive, http10: http10, extraHeaders: extraHeaders)
        buffer.writeString(body)
        return buffer
    }

    /// The small JSON body of an error or status answer: `{"status":500,"error":"..."}`.
    static func statusBody(_ status: Int, _ message: String) -> String {
        #"{"status":\#(status),"error":\#(JSONString.quoted(message))}"#
    }
}
