import HTTPTypes

/// How a virtual user authenticates its chat sockets.
public enum SocketAuth: String, Sendable, Codable, CaseIterable {
    /// The token in the URL (`?token=<key>`), as this server's clients do.
    case token
    /// The session cookie the sign-in answer set (`Cookie: sessionid=…`), as the original
    /// Django back-end's browser clients did: its sockets knew no other way.
    case cookie
}

/// Where a chat socket opens, and the extra headers of its handshake.
public struct SocketEndpoint: Sendable, Codable, Equatable {
    public var url: String
    /// Header names and values added to the upgrade request (`Cookie`).
    public var headers: [String: String]

    public init(url: String, headers: [String: String] = [:]) {
        self.url = url
        self.headers = headers
    }

    /// The headers as the WebSocket client takes them; a name HTTP does not allow is left out.
    var fields: HTTPFields {
        var fields = HTTPFields()
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) {
            if let field = HTTPField.Name(name) { fields.append(HTTPField(name: field, value: value)) }
        }
        return fields
    }
}
