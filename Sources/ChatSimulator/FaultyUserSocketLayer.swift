import ChatBackend
import Synchronization

/// A channel layer that breaks the user socket's promises on purpose, and only the user
/// socket's: chat sockets get every frame unharmed. Put in front of a real server's layer, it
/// proves that the simulator's user-socket invariants catch such a server.
///
/// A dropped or repeated live frame cannot be had by losing or repeating a publish: each user
/// socket's feed puts a chat's frames back in `seq` order and reads any gap from the database.
/// So the faults change what a publish carries for user sockets, under its true `seq`.
public final class FaultyUserSocketLayer: ChannelLayer {
    /// What goes wrong.
    public enum Fault: String, Sendable, CaseIterable {
        /// Every 3rd message never reaches user sockets (they get a `pong` in its place).
        case dropMessages = "drop"
        /// Every 3rd message reaches user sockets as the chat's message before it, again.
        case repeatMessages = "repeat"
        /// Every 2nd `read` event says the reader's marker went back to 0.
        case markerBack = "read-back"
    }

    private struct State {
        var messages = 0
        var reads = 0
        /// Each chat's last user-socket frame.
        var lastUserFrame: [Int64: String] = [:]
    }

    private let inner: any ChannelLayer
    private let fault: Fault
    private let state = Mutex(State())

    public init(wrapping inner: any ChannelLayer, fault: Fault) {
        self.inner = inner
        self.fault = fault
    }

    public func revoke(_ revocation: TokenRevocation) async throws {
        try await inner.revoke(revocation)
    }

    public func isReachable() async -> Bool { await inner.isReachable() }

    public func publish(chatID: Int64, seq: Int64, frames: MessageFrames) async throws {
        let user = frames.user
        let userFrame = state.withLock { state -> String in
            state.messages += 1
            defer { state.lastUserFrame[chatID] = user }
            guard state.messages % 3 == 0 else { return user }
            switch fault {
            case .dropMessages: return #"{"command":"pong"}"#
            case .repeatMessages: return state.lastUserFrame[chatID] ?? user
            case .markerBack: return user
            }
        }
        guard userFrame != user else { return try await inner.publish(chatID: chatID, seq: seq, frames: frames) }
        try await inner.publish(chatID: chatID, seq: seq, frames: MessageFrames(chat: frames.chat, user: userFrame))
    }

    public func publish(_ event: UserSocketEvent) async throws {
        guard fault == .markerBack, let frame = try? JSONValue.parse(Array(event.frame.utf8)), frame["command"] == "read",
            case .object(let members) = frame, state.withLock({ state in state.reads += 1; return state.reads % 2 == 0 })
        else { return try await inner.publish(event) }
        var back = event
        back.frame = JSONValue.object(members.map { $0.0 == "seq" ? ($0.0, .int(0)) : $0 }).serialized
        try await inner.publish(back)
    }
}
