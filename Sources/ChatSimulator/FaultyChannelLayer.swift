import ChatBackend
import Synchronization

/// A channel layer that breaks its promises on purpose: it drops, duplicates or reorders
/// broadcasts. Put in front of a real server's layer, it proves that the simulator's invariant
/// checks catch such a server.
public final class FaultyChannelLayer: ChannelLayer {
    /// What goes wrong.
    public enum Fault: String, Sendable, CaseIterable {
        /// Every 3rd broadcast is lost.
        case drop
        /// Every 3rd broadcast is delivered twice.
        case duplicate
        /// Broadcasts are delivered in pairs, the second of each pair first.
        case reorder
    }

    private let inner: any ChannelLayer
    private let fault: Fault
    private let state = Mutex<(count: Int, held: (Int64, Int64, MessageFrames)?)>((0, nil))

    public init(wrapping inner: any ChannelLayer, fault: Fault) {
        self.inner = inner
        self.fault = fault
    }

    public func revoke(_ revocation: TokenRevocation) async throws {
        try await inner.revoke(revocation)
    }


    public func isReachable() async -> Bool { await inner.isReachable() }

    /// Events pass unharmed: the faults are the broadcasts'.
    public func publish(_ event: UserSocketEvent) async throws {
        try await inner.publish(event)
    }

    public func publish(chatID: Int64, seq: Int64, frames: MessageFrames) async throws {
        let (count, held) = state.withLock { state -> (Int, (Int64, Int64, MessageFrames)?) in
            state.count += 1
            let held = state.held
            if fault == .reorder { state.held = held == nil ? (chatID, seq, frames) : nil }
            return (state.count, held)
        }
        switch fault {
        case .drop:
            if count % 3 != 0 { try await inner.publish(chatID: chatID, seq: seq, frames: frames) }
        case .duplicate:
            try await inner.publish(chatID: chatID, seq: seq, frames: frames)
            if count % 3 == 0 { try await inner.publish(chatID: chatID, seq: seq, frames: frames) }
        case .reorder:
            // Odd broadcasts wait; even ones go out first, then the one held back.
            if let (heldChat, heldSeq, heldFrames) = held {
                try await inner.publish(chatID: chatID, seq: seq, frames: frames)
                try await inner.publish(chatID: heldChat, seq: heldSeq, frames: heldFrames)
            }
        }
    }
}
