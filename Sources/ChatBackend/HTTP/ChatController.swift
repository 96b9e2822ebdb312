import Foundation
import Hummingbird

/// `/api/chat/`: the caller's chats, group creation, chat detail, adding friends, message search,
/// and the REST additions of PROTOCOL.md (sending, editing and deleting messages, read markers,
/// leaving, removing a member, renaming: `ChatController+Messages.swift`, `+Membership.swift`).
/// Every route needs a token; chat routes need the caller to be a participant.
struct ChatController {
    let store: ChatStore
    /// Where a message sent over REST is published to the chat's sockets, as a socket's send is.
    let channelLayer: any ChannelLayer
    /// The sender's allowance of messages, shared with their sockets; nil: unlimited.
    let messageLimiter: RateLimiter?
    /// Counts the messages stored.
    let deliveryMetrics: DeliveryMetrics
    /// Where edits, deletes, read markers and membership changes are announced (the user socket's).
    let events: ChatEventSink

    func addRoutes(to group: RouterGroup<ChatRequestContext>) {
        group.get("mychats/", use: myChats)
        group.get("mychats/:type/", use: myChats)
        group.post("mychats/") { _, _ -> Response in throw APIError.badRequest }
        group.post("mychats/:type/", use: createGroup)
        group.get(":uuid/", use: detail)
        group.post(":uuid/", use: addParticipant)
        group.get(":uuid/search/:phrase/", use: searchMessages)
        addMessageRoutes(to: group)
        addMembershipRoutes(to: group)
    }

    @Sendable func myChats(_ request: Request, context: ChatRequestContext) async throws -> Response {
        let caller = try context.requireUser()
        let kind = try Self.kind(context)
        let pagination = Pagination(request, context: context)
        let page = try await store.chats(of: caller.id, kind: kind, limit: pagination.limit, offset: pagination.offset)
        // One query for the whole page's read markers and unread counts.
        let states = try await store.readStates(userID: caller.id, chatIDs: page.items.map(\.id))
        return pagination.response(page) { $0.json(states[$0.id] ?? ChatReadState(chatID: $0.id, lastSeq: $0.lastSeq)) }
    }

    @Sendable func createGroup(_ request: Request, context: ChatRequestContext) async throws -> Response {
        let caller = try context.requireUser()
        guard try Self.kind(context) == .groups else { throw APIError.badRequest }
        // Every refusal here is the original's empty 400: a missing, blank, mistyped or over-long name.
        var fields = try await RequestFields.readAnsweringEmptyBadRequest(request, context: context)
        guard let name = fields.string("name", maxLength: Limits.chatNameCharacters) else {
            // But a control character, which the original stored cut short: that gets a clear message.
            if fields.errors.contains(where: { $0.1.contains(TextRules.controlCharacterMessage) }) { try fields.validate() }
            throw APIError.badRequest
        }
        let chat = try await store.createGroupChat(name: name, creatorID: caller.id)
        await events.announce(.added(chat: chat, userIDs: [caller.id]))
        return .json(try await detailJSON(chat, request, context), status: .created)
    }

    @Sendable func detail(_ request: Request, context: ChatRequestContext) async throws -> Response {
        let chat = try await participantChat(context)
        return .json(try await detailJSON(chat, request, context))
    }

    @Sendable func addParticipant(_ request: Request, context: ChatRequestContext) async throws -> Response {
        let caller = try context.requireUser()
        let chat = try await participantChat(context)
        var fields = try await RequestFields.read(request, context: context)
        let uuid = fields.uuid("user_uuid")
        try fields.validate()
        guard let uuid else { throw APIError.badRequest }
        guard chat.isGroup else { throw APIError(.notAcceptable, body: nil) }
        guard let user = try await store.user(uuid: uuid) else { throw APIError.notFound }
        guard user.id != caller.id else { throw APIError(.notAcceptable, body: nil) }
        guard try await store.areFriends(caller.id, user.id) else { throw APIError.badRequest }
        guard try await store.addParticipant(userID: user.id, chatID: chat.id) else { throw APIError(.notAcceptable, body: nil) }
        await events.announce(.added(chat: chat, userIDs: [user.id]))
        return .empty(.ok)
    }

    @Sendable func searchMessages(_ request: Request, context: ChatRequestContext) async throws -> Response {
        let chat = try await participantChat(context)
        let phrase = try UserController.phrase(context)
        let pagination = Pagination(request, context: context)
        let page = try await store.searchMessages(chatID: chat.id, phrase: phrase, limit: pagination.limit, offset: pagination.offset)
        return pagination.response(page) { $0.json }
    }

    /// The chat of the `:uuid` parameter: 404 when there is none, the contract's
    /// `{"error": "No access!"}` when the caller is not in it.
    func participantChat(_ context: ChatRequestContext) async throws -> Chat {
        let caller = try context.requireUser()
        guard let uuid = context.parameters.get("uuid").flatMap(UUID.init(uuidString:)),
            let chat = try await store.chat(uuid: uuid)
        else { throw APIError.notFound }
        guard try await store.isParticipant(userID: caller.id, chatID: chat.id) else { throw APIError.noAccess }
        return chat
    }

    /// The detail form, with the caller's read marker and unread count.
    func detailJSON(_ chat: Chat, _ request: Request, _ context: ChatRequestContext) async throws -> JSONValue {
        let caller = try context.requireUser()
        let participants = try await store.participantUUIDs(chatID: chat.id)
        let state = try await store.readState(userID: caller.id, chatID: chat.id)
        return chat.detailJSON(participantURLs: participants.map { UserController.userURL($0, request, context) }, read: state)
    }

    /// The `:type` of `mychats/<type>/`; another type is the contract's empty 400.
    private static func kind(_ context: ChatRequestContext) throws -> ChatKind {
        guard let type = context.parameters.get("type") else { return .all }
        switch type {
        case "private": return .private
        case "groups": return .groups
        default: throw APIError.badRequest
        }
    }
}
