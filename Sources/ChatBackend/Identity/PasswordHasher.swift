import CChatSystem
import Crypto
import Foundation
import HummingbirdBcrypt
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// Hashes and checks passwords with bcrypt, on threads of its own, a bounded number at a time.
///
/// bcrypt is slow on purpose (a quarter of a second at cost 12), so it must never share threads
/// with the database or the event loops: the hasher has its own pool (one thread less than the
/// machine has cores, at least one). Work waiting for those threads is bounded too: past
/// `maximumPending` hashes waiting or running, a request is refused at once with 503 and
/// `Retry-After`, so no number of log-ins piles up in memory. And the hashing threads run at a
/// lower priority (nice 10): on a busy machine the event loops, the database and the sockets get
/// the CPU first, so a flood of log-ins slows log-ins, not chats.
///
/// The password is first reduced to a SHA-256 digest (as Django's `bcrypt_sha256` does), because
/// bcrypt ignores everything after 72 bytes: two long passwords sharing a prefix must not match.
///
/// A service: ``run()`` starts the pool and stops it at graceful shutdown.
public final class PasswordHasher: Service {
    /// bcrypt's cost (4...31); tests and load seeding use a low one.
    public let cost: UInt8
    /// How many hashes may wait or run at once before requests are refused.
    public let maximumPending: Int
    private let pool: NIOThreadPool
    private let pending = Atomic<Int>(0)

    /// Creates a hasher with the given cost; `threads` defaults to one less than the cores.
    public init(cost: UInt8, maximumPending: Int = Limits.pendingPasswordHashes, threads: Int? = nil) {
        self.cost = min(max(cost, 4), 31)
        self.maximumPending = maximumPending
        self.pool = NIOThreadPool(numberOfThreads: threads ?? max(1, System.coreCount - 1))
    }

    public func run() async throws {
        pool.start()
        try? await gracefulShutdown()
        try await pool.shutdownGracefully()
    }

    /// Runs `body` with the pool started, then stops it: for work outside a server (the admin
    /// commands), where no service group runs the hasher.
    public func whileRunning<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        pool.start()
        do {
            let result = try await body()
            try await pool.shutdownGracefully()
            return result
        } catch {
            try? await pool.shutdownGracefully()
            throw error
        }
    }

    /// The stored form of `password`.
    public func hash(_ password: String) async throws -> String {
        let input = Self.prehash(password)
        let cost = self.cost
        return try await admitted { Bcrypt.hash(input, cost: cost) }
    }

    /// Whether `password` matches a stored hash.
    public func verify(_ password: String, hash: String) async throws -> Bool {
        let input = Self.prehash(password)
        return try await admitted { Bcrypt.verify(input, hash: hash) }
    }

    /// Spends as long as a real check, so a login for an unknown e-mail takes as long as a wrong password.
    public func spendCheckTime(_ password: String) async throws {
        _ = try await hash(password)
    }

    /// Runs `work` on the pool if fewer than `maximumPending` hashes are waiting or running.
    /// Internal, not private, so a test can see which thread (and priority) the work runs on.
    func admitted<T: Sendable>(_ work: @escaping @Sendable () -> T) async throws -> T {
        guard pending.wrappingAdd(1, ordering: .relaxed).newValue <= maximumPending else {
            pending.wrappingSubtract(1, ordering: .relaxed)
            throw APIError.busy(retryAfterSeconds: 1)
        }
        defer { pending.wrappingSubtract(1, ordering: .relaxed) }
        do {
            return try await pool.runIfActive {
                // Cheap next to a bcrypt hash, and a pool thread may be new: set it each time.
                _ = chat_lower_thread_priority(Self.niceness)
                return work()
            }
        } catch is CancellationError where !Task.isCancelled {
            // NIO's `runIfActive` says "not started yet, or stopped" with a CancellationError:
            // to the client that is a busy server, not an internal error.
            throw APIError.busy(retryAfterSeconds: 1)
        }
    }

    /// The hashing threads' niceness: above 0 yields to the rest of the process.
    static let niceness: Int32 = 10

    private static func prehash(_ password: String) -> String {
        Data(SHA256.hash(data: Data(password.utf8))).base64EncodedString()
    }
}
