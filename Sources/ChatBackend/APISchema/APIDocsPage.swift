/// The page at `/apischema/`: Swagger UI showing the OpenAPI document.
///
/// Every file it loads is this server's own (``SwaggerUIAssets``, under `/apischema/swagger-ui/`),
/// so it renders on a machine without internet access, and what it shows does not change under
/// its readers until the server's release does.
enum APIDocsPage {
    /// The page's HTML. Its empty `data:` icon tells browsers there is none, so they do not ask for
    /// `/favicon.ico` and log its 404 as a console error.
    static let html = """
        <!doctype html>
        <html lang="en">
        <head>
          <meta charset="utf-8">
          <meta name="viewport" content="width=device-width, initial-scale=1">
          <title>ChatBackend API</title>
          <link rel="icon" href="data:,">
          <link rel="stylesheet" href="\(SwaggerUIAssets.path("swagger-ui.css"))">
        </head>
        <body>
          <div id="swagger-ui">
            <noscript>
              This page needs JavaScript. The API's OpenAPI document is at
              <a href="/apischema/openapi.yaml">/apischema/openapi.yaml</a> and
              <a href="/apischema/openapi.json">/apischema/openapi.json</a>.
            </noscript>
          </div>
          <script src="\(SwaggerUIAssets.path("swagger-ui-bundle.js"))"></script>
          <script>
            window.onload = function () {
              window.ui = SwaggerUIBundle({
                url: "/apischema/openapi.json",
                dom_id: "#swagger-ui",
                deepLinking: true,
                persistAuthorization: true,
                // Swagger UI would otherwise ask validator.swagger.io for a badge: nothing leaves
                // this server (and the document is validated in CI, scripts/check-openapi.sh).
                validatorUrl: null
              });
            };
          </script>
        </body>
        </html>

        """
}
