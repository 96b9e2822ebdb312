/// A one-shot signal that the server is shutting down, awaited by one socket session.
final class ShutdownSignal: Sendable {
    private let stream: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation

    init() {
        (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Fires the signal; later calls do nothing.
    func fire() {
        continuation.yield()
        continuation.finish()
    }

    /// Returns when the signal fires, or when the waiting task is cancelled.
    func wait() async {
        for await _ in stream { return }
    }
}
