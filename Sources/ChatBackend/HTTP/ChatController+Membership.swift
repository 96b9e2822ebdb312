import Foundation
import Hummingbird

/// `POST /api/chat/<uuid>/read/`, `POST /api/chat/<uuid>/leave/`,
/// `DELETE /api/chat/<uuid>/participants/<user uuid>/` and `PATCH /api/chat/<uuid>/`: the read
/// marker, leaving a group, the creator removing a member, renaming a group (PROTOCOL.md).
extension ChatController {
    func addMembershipRoutes(to group: RouterGroup<ChatRequestContext>) {
        group.post(":uuid/read/", use: markRead)
        group.post(":uuid/leave/", use: leave)
        group.delete(":uuid/participants/:user/", use: removeParticipant)
        group.patch(":uuid/", use: rename)
    }

    /// `{"seq"}` → `{"chat", "last_seq", "read_seq", "unread"}`. The marker only moves forward (a
    /// lower `seq` changes nothing); beyond the chat's newest `seq` is a 400.
    @Sendable func markRead(_ request: Request, context: ChatRequestContext) async throws -> Response {
        let caller = try context.requireUser()
        let chat = try await participantChat(context)
        var fields = try await RequestFields.read(request, context: context)
        let seq = Self.sequenceNumber(&fields, "seq")
        try fields.validate()
        guard let seq else { throw APIError.badRequest }
        let state: ChatReadState
        do {
            state = try await store.markRead(chatID: chat.id, userID: caller.id, seq: seq)
        } catch ReadMarkerRefusal.beyondLastSeq(let lastSeq) {
            throw APIError.validation([("seq", ["Ensure this value is less than or equal to \(lastSeq), the chat's last seq."])])
        } catch ReadMarkerRefusal.notParticipant {
            throw APIError.noAccess
        }
        await events.announce(.read(chat: chat, userUUID: caller.uuid, seq: state.readSeq))
        return .json(state.json(chatUUID: chat.uuid))
    }

    /// → 204; the caller is out of the group. A private chat cannot be left (406, as adding to one).
    @Sendable func leave(_ request: Request, context: ChatRequestContext) async throws -> Response {
        let caller = try context.requireUser()
        let chat = try await participantChat(context)
        try await Self.answeringMembershipRefusals { try await store.leaveChat(chatID: chat.id, userID: caller.id) }
        await stopDelivery(of: chat, to: caller.id, context: context)
        return .empty(.noContent)
    }

    /// → 204; the group's creator takes a member out. Others: 403; a user not in the chat: 404.
    @Sendable func removeParticipant(_ request: Request, context: ChatRequestContext) async throws -> Response {
        let caller = try context.requireUser()
        let chat = try await participantChat(context)
        guard let uuid = context.parameters.get("user").flatMap(UUID.init(uuidString:)),
            let user = try await store.user(uuid: uuid)
        else { throw APIError.notFound }
        try await Self.answeringMembershipRefusals { try await store.removeParticipant(chatID: chat.id, userID: user.id, removerID: caller.id) }
        await stopDelivery(of: chat, to: user.id, context: context)
        return .empty(.noContent)
    }

    /// `{"name"}` → the renamed group (detail form); any participant. A private chat: 406.
    @Sendable func rename(_ request: Request, context: ChatRequestContext) async throws -> Response {
        let chat = try await participantChat(context)
        var fields = try await RequestFields.read(request, context: context)
        let name = fields.string("name", maxLength: Limits.chatNameCharacters)
        try fields.validate()
        guard let name else { throw APIError.badRequest }
        let renamed = try await Self.answeringMembershipRefusals { try await store.renameChat(chatID: chat.id, name: name) }
        await events.announce(.renamed(chat: renamed))
        return .json(try await detailJSON(renamed, request, context))
    }

    /// A user no longer in a chat stops receiving it at once: their chat sockets on it are closed
    /// (1008) on every node, and the user socket is told.
    private func stopDelivery(of chat: Chat, to userID: Int64, context: ChatRequestContext) async {
        do {
            try await channelLayer.revoke(.membership(userID: userID, chatID: chat.id))
        } catch {
            // The membership is gone already: a socket left open is refused at its next check.
            context.logger.warning("closing a former member's sockets failed", metadata: ["error": "\(error)"])
        }
        await events.announce(.removed(chat: chat, userID: userID))
    }

    /// A required integer field of at least 0, with DRF's messages.
    private static func sequenceNumber(_ fields: inout RequestFields, _ name: String) -> Int64? {
        switch fields[name] {
        case nil, .null?:
            fields.fail(name, "This field is required.")
        case .int(let value)? where value >= 0:
            return value
        case .int?:
            fields.fail(name, "Ensure this value is greater than or equal to 0.")
        default:
            fields.fail(name, "A valid integer is required.")
        }
        return nil
    }

    /// Runs a change of membership or name, answering the store's refusals in the contract's shapes.
    private static func answeringMembershipRefusals<T>(_ change: () async throws -> T) async throws -> T {
        do {
            return try await change()
        } catch let refusal as MembershipRefusal {
            switch refusal {
            case .notFound: throw APIError.notFound
            case .notGroup: throw APIError(.notAcceptable, body: nil)
            case .notCreator: throw APIError.permissionDenied
            case .notParticipant: throw APIError.notFound
            }
        }
    }
}
