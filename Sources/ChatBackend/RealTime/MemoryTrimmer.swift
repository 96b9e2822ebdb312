import CMemory
import ServiceLifecycle

/// Gives memory back to the system after sockets close.
///
/// glibc's allocator keeps freed memory in its arenas for reuse, so a burst of thousands of
/// sockets leaves the process at its peak size long after they are gone. When sockets have left
/// the hub, `malloc_trim(0)` returns the free pages, at most once per `interval`.
public struct MemoryTrimmer: Service {
    let hub: ChatHub
    let interval: Duration

    public init(hub: ChatHub, interval: Duration = .seconds(5)) {
        self.hub = hub
        self.interval = interval
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard hub.takeDepartures() > 0 else { continue }
                // A few milliseconds at most, once per interval at most, holding no lock of ours.
                _ = cmemory_trim()
            }
        }
    }
}
