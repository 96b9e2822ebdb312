import Crypto
import Foundation
import NIOCore

/// Swagger UI's own files, which the docs page at `/apischema/` loads from this server at
/// `/apischema/swagger-ui/<file>`: nothing is fetched from the internet, so the page works on a
/// machine without it.
///
/// The files are vendored, unmodified, in `SwaggerUI/` beside this file (with Swagger UI's licence),
/// a resource of the ChatBackend target; where they come from and how to update them is in
/// `docs/api-schema.md`. They are read once, on first use, and kept in memory (about 1.2 MB).
enum SwaggerUIAssets {
    /// The Swagger UI release vendored in `SwaggerUI/`; the page adds it to the assets' URLs, so a
    /// server with another release makes browsers load the new files at once.
    static let version = "4.15.5"

    /// One file as served: its bytes, media type, and a strong entity tag of its contents.
    struct Asset: Sendable {
        let body: ByteBuffer
        let contentType: String
        /// A quoted digest of the bytes: a browser revalidating with `If-None-Match` gets a 304.
        let entityTag: String
    }

    /// The files served, by name, with their media types (RFC 9239 names JavaScript `text/javascript`).
    static let mediaTypes: [String: String] = [
        "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
        "swagger-ui.css": "text/css; charset=utf-8",
    ]

    /// Every file of ``mediaTypes``, read from the resource bundle once. A missing resource is kept
    /// as the failure rather than trapped, so the server still serves everything else (and
    /// `APISchemaTests` catches it first).
    static let assets: Result<[String: Asset], any Error> = Result {
        var assets: [String: Asset] = [:]
        for (name, contentType) in mediaTypes {
            let file = URL(fileURLWithPath: name)
            guard let url = Bundle.module.url(
                forResource: file.deletingPathExtension().lastPathComponent,
                withExtension: file.pathExtension,
                subdirectory: "SwaggerUI"
            ) else {
                throw ConfigurationError("the resource SwaggerUI/\(name) is missing from ChatBackend's bundle")
            }
            let data = try Data(contentsOf: url)
            let digest = SHA256.hash(data: data).prefix(16).map { String(format: "%02x", $0) }.joined()
            assets[name] = Asset(body: ByteBuffer(bytes: data), contentType: contentType, entityTag: "\"\(digest)\"")
        }
        return assets
    }

    /// The path the page loads `name` from, with the version as a cache key.
    static func path(_ name: String) -> String {
        "/apischema/swagger-ui/\(name)?v=\(version)"
    }
}
