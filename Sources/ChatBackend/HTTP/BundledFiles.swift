import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// Files of a folder in ChatBackend's resource bundle, served as they are (the web app's, Swagger
/// UI's): read once, on first use, kept in memory, each with a strong entity tag of its contents,
/// so a browser revalidating with `If-None-Match` gets a 304.
struct BundledFiles: Sendable {
    /// One file as served.
    struct File: Sendable {
        let body: ByteBuffer
        let contentType: String
        /// A quoted digest of the bytes.
        let entityTag: String
    }

    /// The files served, by name, with their media types (RFC 9239 names JavaScript `text/javascript`).
    let mediaTypes: [String: String]
    /// Every file of ``mediaTypes``. A missing resource is kept as the failure rather than trapped,
    /// so the server still serves everything else (and the tests of each route catch it first).
    let files: Result<[String: File], any Error>

    /// Reads each file of `mediaTypes` from the bundle folder `folder`.
    init(folder: String, mediaTypes: [String: String]) {
        self.mediaTypes = mediaTypes
        self.files = Result {
            var files: [String: File] = [:]
            for (name, contentType) in mediaTypes {
                let file = URL(fileURLWithPath: name)
                guard let url = Bundle.module.url(
                    forResource: file.deletingPathExtension().lastPathComponent, withExtension: file.pathExtension, subdirectory: folder
                ) else {
                    throw ConfigurationError("the resource \(folder)/\(name) is missing from ChatBackend's bundle")
                }
                let data = try Data(contentsOf: url)
                let digest = SHA256.hash(data: data).prefix(16).map { String(format: "%02x", $0) }.joined()
                files[name] = File(body: ByteBuffer(bytes: data), contentType: contentType, entityTag: "\"\(digest)\"")
            }
            return files
        }
    }

    /// The answer for `name`: 200 with the file, or 304 when the request's `If-None-Match` names
    /// it; `headers` (caching, policies) go on both. A name not served is a 404; a folder that
    /// could not be read is a 500, logged.
    func response(for name: String?, request: Request, headers: HTTPFields, logger: Logger) throws -> Response {
        guard let name, mediaTypes[name] != nil else { throw APIError.notFound }
        let file: File
        switch files {
        case .success(let files):
            guard let found = files[name] else { throw APIError.notFound }
            file = found
        case .failure(let error):
            logger.error("bundled files cannot be served", metadata: ["error": "\(error)"])
            throw APIError.detail(.internalServerError, "A server error occurred.")
        }
        var headers = headers
        headers[.eTag] = file.entityTag
        if let presented = request.headers[.ifNoneMatch], Self.matches(presented, entityTag: file.entityTag) {
            return Response(status: .notModified, headers: headers)
        }
        headers[.contentType] = file.contentType
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: file.body))
    }

    /// Whether an `If-None-Match` value names `entityTag` (or is `*`); weak comparison, as RFC 9110
    /// asks for this header, so a `W/` prefix a proxy added still matches.
    static func matches(_ ifNoneMatch: String, entityTag: String) -> Bool {
        ifNoneMatch.split(separator: ",").contains { candidate in
            var tag = candidate.trimmingCharacters(in: .whitespaces)
            if tag == "*" { return true }
            if tag.hasPrefix("W/") { tag.removeFirst(2) }
            return tag == entityTag
        }
    }
}
