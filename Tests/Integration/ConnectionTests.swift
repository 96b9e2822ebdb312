import ChatBackend
import Logging
import NIOCore
import Testing

/// What the server does with connections themselves, seen from raw sockets.
@Suite("Connections")
struct ConnectionTests {
    // MARK: Logs

    @Test("A client that leaves in the middle of its request is no error of the server's")
    func clientLeaves() async throws {
        let recorder = LogRecorder()
        try await TestServer.run(configure: {
            $0.logHandler = recorder.factory
            $0.logLevel = .trace
        }) { server in
            for cut in ["", "{\"email\": \"someone@exa"] {
                let connection = try await RawConnection.open(port: server.port)
                try await connection.send(
                    "POST /api/rest-auth/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n" + cut
                )
                try await Task.sleep(for: .milliseconds(100))
                await connection.close()
            }
            try await Task.sleep(for: .milliseconds(500))
        }
        let errors = recorder.records.filter { $0.level >= .error }
        #expect(errors.isEmpty, "\(errors.map { "\($0.message) \($0.metadata)" })")
    }
}
