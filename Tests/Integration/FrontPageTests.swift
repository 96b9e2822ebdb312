import ChatBackend
import Foundation
import Testing

@Suite("Front page")
struct FrontPageTests {
    @Test("GET / is a self-contained HTML page naming the server and linking the docs, the app and the health checks; HEAD / answers its headers")
    func frontPage() async throws {
        try await TestServer.run { server in
            let page = try await server.get("/")
            #expect(page.status == .ok)
            #expect(page.headers[.contentType]?.hasPrefix("text/html") == true)
            #expect(page.headers[.cacheControl] == "no-cache")
            for link in ["href=\"/apischema/\"", "href=\"/app/\"", "href=\"/healthz\"", "href=\"/readyz\"", "chat-server"] {
                #expect(page.body.contains(link), "the page has \(link)")
            }
            #expect(!page.body.contains("http://") && !page.body.contains("https://") && !page.body.contains("<script"), "nothing from elsewhere")

            let head = try await server.request(.head, "/")
            #expect(head.status == .ok)
            #expect(head.headers[.contentType]?.hasPrefix("text/html") == true)
            #expect(head.body.isEmpty)
            #expect(head.headers[.contentLength] == String(page.body.utf8.count))
        }
    }
}
