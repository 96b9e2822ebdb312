import CChatSystem
import ServiceLifecycle

/// Gives memory back to the system after sockets close.
///
/// glibc's allocator keeps freed memory in its arenas for reuse, so a burst of thousands of
/// sockets leaves the process at its peak size long after they are gone. When sockets have left
/// the hub, `malloc_trim(0)` returns the free pages, once per `interval`, for `afterwards` more
/// intervals after the last departure: a closed socket's connection (its buffers, its close
/// handshake) is freed a while after the socket leaves the hub.
public struct MemoryTrimmer: Service {
    let hub: ChatHub
    let interval: Duration
    let afterwards: Int

    public init(hub: ChatHub, interval: Duration = .seconds(5), afterwards: Int = 6) {
        self.hub = hub
        self.interval = interval
        self.afterwards = afterwards
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            var trimsLeft = 0
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                if hub.takeDepartures() > 0 { trimsLeft = afterwards + 1 }
                guard trimsLeft > 0 else { continue }
                trimsLeft -= 1
                // A few milliseconds at most, once per interval at most, holding no lock of ours.
                _ = chat_trim_memory()
            }
        }
    }
}
