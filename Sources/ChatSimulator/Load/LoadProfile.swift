/// The shape of a load run: how many users and chats, how fast messages are sent, for how long.
///
/// The send rate is an open model: messages go out on schedule whether or not the server has
/// answered the previous ones, as real users do, so a slow server shows as latency, not as a
/// politely reduced load.
public struct LoadProfile: Sendable, Codable {
    /// Virtual users.
    public var users = 20
    /// Group chats.
    public var chats = 5
    /// Members of each group chat (owner included).
    public var groupSize = 4
    /// Messages per second, over all chats, once ramped up.
    public var rate = 50.0
    /// Seconds to go linearly from 0 to `rate`.
    public var rampUp = 2.0
    /// Seconds of sending, ramp-up included.
    public var duration = 10.0
    /// Read every chat's whole history at the end and check it against the live order.
    public var checkHistory = true
    /// REST requests per second (`GET /api/chat/mychats/` by the users in turn) while messages
    /// go out: the normal users' REST latency under load. 0: none.
    public var restProbes = 0.0
    /// Hostile clients that run beside the users while messages go out. Default: none.
    public var hostile = HostileProfile()
    /// Processes that hold the users' sockets, send and receive (`chat-sim load-worker`); 1: this
    /// process alone. More than one lets one machine offer more than one process can.
    public var workers = 1
    /// How the users' sockets authenticate: the token in the URL, or the session cookie their
    /// sign-in set (the original back-end's way).
    public var socketAuth = SocketAuth.token
    /// The socket the users live on: a chat socket per chat they are in (API.md, the default),
    /// or one user socket (`/ws/`, PROTOCOL.md) each, sending with a `client_id`.
    public var socket = LoadSocketKind.chat
    /// With user sockets: every this many seconds, each reconnecting socket loses its connection
    /// and comes back with `resume` (sending again what was not acknowledged). 0: never.
    public var reconnectEvery = 0.0
    /// The share of the user sockets that reconnect (chosen by the seed; at least one).
    public var reconnectShare = 0.5

    public init() {}

    /// Refuses shapes that cannot run, with the reason.
    public func validate() throws {
        guard users >= 2 else { throw SimulatorError("users must be at least 2") }
        guard chats >= 1 else { throw SimulatorError("chats must be at least 1") }
        guard (2...users).contains(groupSize) else { throw SimulatorError("group size must be between 2 and the number of users") }
        guard rate > 0, rate <= 100_000 else { throw SimulatorError("rate must be between 0 and 100000 messages per second") }
        guard duration > 0, rampUp >= 0, rampUp <= duration else { throw SimulatorError("duration must be positive and at least the ramp-up") }
        guard (0...1000).contains(restProbes) else { throw SimulatorError("REST probes must be between 0 and 1000 per second") }
        guard (1...64).contains(workers) else { throw SimulatorError("workers must be between 1 and 64") }
        guard reconnectEvery >= 0, reconnectEvery == 0 || socket == .user else { throw SimulatorError("reconnects need user sockets (socket: user)") }
        guard (0...1).contains(reconnectShare) else { throw SimulatorError("the share of reconnecting sockets must be between 0 and 1") }
        try hostile.validate()
    }

    /// The moment (seconds from the start) the `index`-th message is due: the rate grows linearly
    /// during ramp-up, then stays flat.
    func sendTimes() -> [Double] {
        var times: [Double] = []
        var t = 0.0
        while t < duration {
            let current = rampUp > 0 && t < rampUp ? max(rate * t / rampUp, rate / 20) : rate
            t += 1 / current
            if t < duration { times.append(t) }
        }
        return times
    }
}

/// The socket a load run's users live on.
public enum LoadSocketKind: String, Sendable, Codable, CaseIterable {
    /// A chat socket (`/ws/chat/<uuid>/`) per chat a user is in, sending `new_message`.
    case chat
    /// One user socket (`/ws/`) per user, for all their chats, sending with a `client_id`.
    case user
}

import Foundation
import Yams

extension LoadProfile {
    /// Reads a profile from YAML; keys left out keep their defaults.
    public static func load(path: String) throws -> LoadProfile {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        do {
            return try YAMLDecoder().decode(PartialProfile.self, from: text).applied(to: LoadProfile())
        } catch {
            throw SimulatorError("\(path) is not a valid load profile: \(error)")
        }
    }

    private struct PartialProfile: Decodable {
        var users: Int?
        var chats: Int?
        var groupSize: Int?
        var rate: Double?
        var rampUp: Double?
        var duration: Double?
        var checkHistory: Bool?
        var restProbes: Double?
        var hostile: HostileProfile?
        var workers: Int?
        var socketAuth: SocketAuth?
        var socket: LoadSocketKind?
        var reconnectEvery: Double?
        var reconnectShare: Double?

        func applied(to profile: LoadProfile) -> LoadProfile {
            var profile = profile
            profile.users = users ?? profile.users
            profile.chats = chats ?? profile.chats
            profile.groupSize = groupSize ?? profile.groupSize
            profile.rate = rate ?? profile.rate
            profile.rampUp = rampUp ?? profile.rampUp
            profile.duration = duration ?? profile.duration
            profile.checkHistory = checkHistory ?? profile.checkHistory
            profile.restProbes = restProbes ?? profile.restProbes
            profile.hostile = hostile ?? profile.hostile
            profile.workers = workers ?? profile.workers
            profile.socketAuth = socketAuth ?? profile.socketAuth
            profile.socket = socket ?? profile.socket
            profile.reconnectEvery = reconnectEvery ?? profile.reconnectEvery
            profile.reconnectShare = reconnectShare ?? profile.reconnectShare
            return profile
        }
    }
}
