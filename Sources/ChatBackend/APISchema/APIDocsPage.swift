/// The page at `/apischema/`: Swagger UI, loaded from its public CDN, showing the OpenAPI document.
///
/// The Swagger UI version is pinned so the page does not change under the document's readers; the
/// server serves no script itself, so nothing here needs building or updating with the server.
enum APIDocsPage {
    /// The swagger-ui-dist release the page loads from unpkg.
    static let swaggerUIVersion = "5.17.14"

    /// The page's HTML.
    static let html = """
        <!doctype html>
        <html lang="en">
        <head>
          <meta charset="utf-8">
          <meta name="viewport" content="width=device-width, initial-scale=1">
          <title>ChatBackend API</title>
          <link rel="stylesheet" href="https://unpkg.com/swagger-ui-dist@\(swaggerUIVersion)/swagger-ui.css">
        </head>
        <body>
          <div id="swagger-ui">
            <noscript>
              This page needs JavaScript. The API's OpenAPI document is at
              <a href="/apischema/openapi.yaml">/apischema/openapi.yaml</a> and
              <a href="/apischema/openapi.json">/apischema/openapi.json</a>.
            </noscript>
          </div>
          <script src="https://unpkg.com/swagger-ui-dist@\(swaggerUIVersion)/swagger-ui-bundle.js" crossorigin></script>
          <script>
            window.onload = function () {
              window.ui = SwaggerUIBundle({
                url: "/apischema/openapi.json",
                dom_id: "#swagger-ui",
                deepLinking: true,
                persistAuthorization: true
              });
            };
          </script>
        </body>
        </html>

        """
}
