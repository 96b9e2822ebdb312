import Crypto
import Foundation

/// A random secret handed to a client once (an API token, an e-mail confirmation key) and
/// stored only as its SHA-256 digest, so a leaked database holds no usable secret.
///
/// Lookups go by digest through a unique index: the comparison happens on digests, which reveal
/// nothing about the key, so its timing leaks nothing either.
public struct SecretKey: Sendable, Equatable {
    /// The text the client holds.
    public let text: String

    /// Wraps a key a client presented.
    public init(_ text: String) {
        self.text = text
    }

    /// A new random key: 20 bytes (160 bits) as 40 lowercase hex characters, like DRF's tokens.
    public static func random() -> SecretKey {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<20).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return SecretKey(bytes.map { String(format: "%02x", $0) }.joined())
    }

    /// The digest the database stores.
    public var digest: String {
        SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
