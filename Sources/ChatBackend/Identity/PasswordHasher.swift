import Crypto
import Foundation
import HummingbirdBcrypt
import NIOPosix

/// Hashes and checks passwords with bcrypt, off the event loops.
///
/// The password is first reduced to a SHA-256 digest (as Django's `bcrypt_sha256` does), because
/// bcrypt ignores everything after 72 bytes: two long passwords sharing a prefix must not match.
public struct PasswordHasher: Sendable {
    /// bcrypt's cost (4...31); tests and load seeding use a low one.
    public var cost: UInt8

    /// Creates a hasher with the given cost.
    public init(cost: UInt8) {
        self.cost = min(max(cost, 4), 31)
    }

    /// The stored form of `password`.
    public func hash(_ password: String) async throws -> String {
        let input = Self.prehash(password)
        let cost = self.cost
        return try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(input, cost: cost) }
    }

    /// Whether `password` matches a stored hash.
    public func verify(_ password: String, hash: String) async throws -> Bool {
        let input = Self.prehash(password)
        return try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(input, hash: hash) }
    }

    /// Spends as long as a real check, so a login for an unknown e-mail takes as long as a wrong password.
    public func spendCheckTime(_ password: String) async throws {
        _ = try await hash(password)
    }

    private static func prehash(_ password: String) -> String {
        Data(SHA256.hash(data: Data(password.utf8))).base64EncodedString()
    }
}
