@testable import ChatBackend
import Foundation
import Testing

@Suite("Configuration")
struct ConfigurationTests {
    @Test("a PostgreSQL URL carries TLS, pool and timeout settings; defaults follow libpq")
    func postgresSettings() throws {
        let defaults = try PostgresSettings(url: "postgres://chat:s%40cret@db.internal/chat")
        #expect(defaults.host == "db.internal")
        #expect(defaults.port == 5432)
        #expect(defaults.username == "chat")
        #expect(defaults.password == "s@cret")
        #expect(defaults.database == "chat")
        #expect(defaults.tls == .prefer)
        #expect(defaults.poolSize == 20)

        let tuned = try PostgresSettings(
            url: "postgresql://u@h:6543/d?sslmode=verify-full&sslrootcert=/etc/ca.pem&pool_size=5&connect_timeout=7&query_timeout=30"
        )
        #expect(tuned.port == 6543)
        #expect(tuned.tls == .verifyFull)
        #expect(tuned.certificateAuthorityFile == "/etc/ca.pem")
        #expect(tuned.poolSize == 5)
        #expect(tuned.connectTimeout == .seconds(7))
        #expect(tuned.queryTimeout == .seconds(30))
        #expect(try PostgresSettings(url: "postgres://h/d?sslmode=disable").tls == .disable)
        #expect(try PostgresSettings(url: "postgres://h/d?sslmode=require").tls == .require)
    }

    @Test("a malformed PostgreSQL setting stops the server at start, naming the setting and hiding the password")
    func badPostgresSettings() throws {
        for (url, mention) in [
            ("postgres://h/d?sslmode=allow-ish", "sslmode"),
            ("postgres://h/d?pool_size=0", "pool_size"),
            ("postgres://h/d?connect_timeout=soon", "connect_timeout"),
            ("postgres://h/d?poolsize=3", "unknown parameter 'poolsize'"),
            ("postgres:///d", "is not postgres://"),
        ] {
            let error = #expect(throws: ConfigurationError.self) { try DatabaseLocation(url: url) }
            #expect(error?.description.contains(mention) == true, "\(url): \(error?.description ?? "")")
        }
        let error = #expect(throws: ConfigurationError.self) { try PostgresSettings(url: "postgres://u:hunter2@/d") }
        #expect(error?.description.contains("hunter2") == false)
    }

    @Test("every environment variable the server reads is documented, in --help and in the README")
    func everySettingDocumented() throws {
        let readme = try String(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../README.md"), encoding: .utf8)
        for (name, meaning) in AppConfiguration.environmentVariables {
            #expect(!meaning.isEmpty)
            #expect(readme.contains("`\(name)`"), "README's configuration table lacks \(name)")
        }
        // Reading goes through the documented list: setting each variable reads each one.
        let all = Dictionary(uniqueKeysWithValues: AppConfiguration.environmentVariables.map { ($0.name, "") })
        _ = try AppConfiguration.fromEnvironment(all)
    }
}

@Suite("Presented keys")
struct PresentedKeyTests {
    @Test("one policy for the header and the socket's ?token=: over-long keys are invalid, never cut")
    func onePolicy() {
        let key = String(repeating: "a", count: 40)
        let overLong = String(repeating: "a", count: Limits.keyCharacters + 1)
        #expect(PresentedKey(authorization: "Token \(key)") == .key(SecretKey(key)))
        #expect(PresentedKey(authorization: "bearer \(key)") == .key(SecretKey(key)))
        #expect(PresentedKey(authorization: "Basic dXNlcjpwYXNz") == .absent)
        #expect(PresentedKey(authorization: nil) == .absent)
        #expect(PresentedKey(authorization: "Token") == .malformed)
        #expect(PresentedKey(authorization: "Token a b") == .malformed)
        #expect(PresentedKey(authorization: "Token \(overLong)") == .malformed)

        #expect(PresentedKey(authorization: nil, query: key) == .key(SecretKey(key)))
        #expect(PresentedKey(authorization: nil, query: overLong) == .malformed)
        #expect(PresentedKey(authorization: nil, query: "") == .malformed)
        #expect(PresentedKey(authorization: nil, query: nil) == .absent)
        // The header wins over the query, even when the header's key is bad.
        #expect(PresentedKey(authorization: "Token \(overLong)", query: key) == .malformed)
    }
}
