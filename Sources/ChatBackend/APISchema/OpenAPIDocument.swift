import Foundation

/// The API's OpenAPI 3 document: written once, as YAML in `openapi.yaml`; the JSON form served at
/// `/apischema/openapi.json` is derived from this text, so the two forms cannot disagree.
///
/// Keep it in step with the routes: `APISchemaTests` fails when a registered route is missing here
/// or a documented one is not registered, and `scripts/check-openapi.sh` validates the document and
/// fuzzes a live server against it. Quote every mapping key that YAML would read as a number
/// (`'200':`) and every value that YAML 1.1 would read as a boolean, number or date: the JSON form
/// refuses such keys, and both forms must read the same in any YAML parser.
enum OpenAPIDocument {
    /// The document, as served at `/apischema/openapi.yaml`: the resource `openapi.yaml` beside
    /// this file (SwiftPM copies it into the ChatBackend resource bundle, next to the binary).
    static let yaml = SchemaDocument.yaml(resource: "openapi")

    /// The document as JSON text, derived from ``yaml`` once; a failure (a malformed edit of the
    /// YAML, a missing resource) is kept rather than trapped, so the server still serves everything else.
    static let json = SchemaDocument.json(yaml)
}

/// The sockets' AsyncAPI 3 document (`asyncapi.yaml`): both socket protocols, their frames and
/// their schemas; served beside the OpenAPI one, validated by `scripts/check-openapi.sh`, and kept
/// in step with the frames the server knows by `APISchemaTests`.
enum AsyncAPIDocument {
    static let yaml = SchemaDocument.yaml(resource: "asyncapi")
    static let json = SchemaDocument.json(yaml)
}

/// Reading a document of this folder from the bundle, and its JSON form.
enum SchemaDocument {
    static func yaml(resource: String) -> Result<String, any Error> {
        Result {
            guard let url = Bundle.module.url(forResource: resource, withExtension: "yaml") else {
                throw ConfigurationError("the resource \(resource).yaml is missing from ChatBackend's bundle")
            }
            return try String(contentsOf: url, encoding: .utf8)
        }
    }

    static func json(_ yaml: Result<String, any Error>) -> Result<String, any Error> {
        Result { try JSONValue(yaml: yaml.get()).serialized }
    }
}
