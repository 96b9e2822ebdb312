import ChatBackend
import Foundation
import Testing

@Suite("Web app")
struct WebAppTests {
    @Test("GET /app/ and its script and style sheet answer 200 with their types, a strict Content-Security-Policy, and revalidate by entity tag")
    func filesServed() async throws {
        try await TestServer.run { server in
            let page = try await server.get("/app/")
            #expect(page.status == .ok)
            #expect(page.headers[.contentType]?.hasPrefix("text/html") == true)
            #expect(page.body.contains("src=\"/app/app.js\"") && page.body.contains("href=\"/app/app.css\""))
            // Nothing from elsewhere, and no inline script for the policy to allow.
            #expect(!page.body.contains("://"), "the page names no other origin")
            #expect(!page.body.contains("<script>") && !page.body.contains("<style"), "no inline script or style")

            let expected = [("/app/", "text/html", "id=\"signin-form\""), ("/app/app.js", "text/javascript", "/ws/?token="), ("/app/app.css", "text/css", "#composer")]
            for (path, type, marker) in expected {
                let file = try await server.get(path)
                #expect(file.status == .ok, "\(path)")
                #expect(file.headers[.contentType]?.hasPrefix(type) == true, "\(path): \(file.headers[.contentType] ?? "no type")")
                #expect(file.body.contains(marker), "\(path) is the app's")
                let policy = file.headers[.contentSecurityPolicy] ?? ""
                for directive in ["default-src 'self'", "script-src 'self'", "style-src 'self'", "connect-src 'self' ws: wss:", "object-src 'none'", "frame-ancestors 'none'"] {
                    #expect(policy.contains(directive), "\(path) has \(directive) in its policy: \(policy)")
                }
                #expect(!policy.contains("unsafe-inline") && !policy.contains("unsafe-eval"), "\(path): \(policy)")
                #expect(file.headers[.xContentTypeOptions] == "nosniff")
                #expect(file.headers[.cacheControl] == "no-cache")

                let tag = try #require(file.headers[.eTag], "\(path) has an entity tag")
                let again = try await server.request(.get, path, headers: [.ifNoneMatch: tag])
                #expect(again.status == .notModified && again.body.isEmpty, "\(path) revalidated")
            }

            // The script puts people's text in the page as text, never as HTML.
            let script = try await server.get("/app/app.js")
            #expect(!script.body.contains("innerHTML") && !script.body.contains("insertAdjacentHTML") && !script.body.contains("eval("))

            for unknown in ["/app/other.js", "/app/..%2FPackage.swift", "/app/index.htm"] {
                #expect(try await server.get(unknown).status == .notFound, "\(unknown)")
            }
        }
    }
}
