import Synchronization

/// Serialises "store a message, then publish it" per chat, so every participant sees a chat's
/// messages in the order of its history: without it, two senders could commit A before B and
/// publish B before A.
final class ChatSequencer: Sendable {
    private let locks = Mutex<[Int64: AsyncMutex]>([:])

    /// Runs `body` while no other message of `chatID` is being stored or published.
    func inOrder<T>(chatID: Int64, _ body: () async throws -> T) async rethrows -> T {
        let lock = locks.withLock { locks in
            if let lock = locks[chatID] { return lock }
            let lock = AsyncMutex()
            locks[chatID] = lock
            return lock
        }
        return try await lock.withLock(body)
    }
}
