/// Swagger UI's own files, which the docs page at `/apischema/` loads from this server at
/// `/apischema/swagger-ui/<file>`: nothing is fetched from the internet, so the page works on a
/// machine without it.
///
/// The files are vendored, unmodified, in `SwaggerUI/` beside this file (with Swagger UI's licence),
/// a resource of the ChatBackend target; where they come from and how to update them is in
/// `docs/api-schema.md`. They are read once, on first use, and kept in memory (``BundledFiles``).
enum SwaggerUIAssets {
    /// The Swagger UI release vendored in `SwaggerUI/`; the page adds it to the assets' URLs, so a
    /// server with another release makes browsers load the new files at once.
    static let version = "4.15.5"

    /// The files served, read once (about 1.2 MB).
    static let files = BundledFiles(folder: "SwaggerUI", mediaTypes: [
        "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
        "swagger-ui.css": "text/css; charset=utf-8",
    ])

    /// The path the page loads `name` from, with the version as a cache key.
    static func path(_ name: String) -> String {
        "/apischema/swagger-ui/\(name)?v=\(version)"
    }
}
