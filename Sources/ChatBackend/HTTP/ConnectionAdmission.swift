import NIOCore
import Synchronization

/// Counts the open connections, in all and per client address, and admits a new one only under
/// both caps: one client cannot take every file descriptor, and all of them together cannot take
/// the ones the database and Redis need.
final class ConnectionAdmission: Sendable {
    private struct Counts {
        var total = 0
        var perAddress: [String: Int] = [:]
    }

    private let maxPerAddress: Int
    private let maxTotal: Int
    private let counts = Mutex(Counts())

    init(maxPerAddress: Int, maxTotal: Int) {
        self.maxPerAddress = maxPerAddress
        self.maxTotal = maxTotal
    }

    /// Counts `channel` in if both caps allow it, until it closes; false: the caller closes it.
    func admit(_ channel: any Channel) -> Bool {
        // Connections without an IP address (Unix sockets) share one count.
        let address = channel.remoteAddress?.ipAddress ?? ""
        let admitted = counts.withLock { counts in
            guard counts.total < maxTotal, counts.perAddress[address, default: 0] < maxPerAddress else { return false }
            counts.total += 1
            counts.perAddress[address, default: 0] += 1
            return true
        }
        if admitted {
            channel.closeFuture.whenComplete { _ in self.release(address) }
        }
        return admitted
    }

    private func release(_ address: String) {
        counts.withLock { counts in
            counts.total -= 1
            let left = counts.perAddress[address, default: 1] - 1
            counts.perAddress[address] = left == 0 ? nil : left
        }
    }
}
