import Foundation
import Hummingbird

/// `/api/user/`: the caller, other users, friends and invitations. Every route needs a token.
struct UserController {
    let store: ChatStore
    /// Where a chat made by an accepted invitation is announced (the user socket's).
    let events: ChatEventSink

    func addRoutes(to group: RouterGroup<ChatRequestContext>) {
        group.get("currentuser/", use: currentUser)
        group.get("search/:phrase/", use: search)
        group.get("friends/", use: friends)
        group.post("friends/", use: invite)
        group.get("invitations/", use: invitations)
        group.post("invitations/", use: answerInvitation)
        group.get(":uuid/", use: user)
    }

    @Sendable func currentUser(_ request: Request, context: ChatRequestContext) async throws -> Response {
        .json(try context.requireUser().json)
    }

    @Sendable func user(_ request: Request, context: ChatRequestContext) async throws -> Response {
        guard let uuid = context.parameters.get("uuid").flatMap(UUID.init(uuidString:)),
            let user = try await store.user(uuid: uuid)
        else { throw APIError.notFound }
        return .json(user.json)
    }

    @Sendable func search(_ request: Request, context: ChatRequestContext) async throws -> Response {
        let caller = try context.requireUser()
        let phrase = try Self.phrase(context)
        let pagination = Pagination(request, context: context)
        let page = try await store.searchUsers(phrase: phrase, limit: pagination.limit, offset: pagination.offset)
        let friendIDs = try await store.friendIDs(of: caller.id, among: page.items.map(\.id))
        return pagination.response(page) { $0.searchJSON(isFriend: friendIDs.contains($0.id)) }
    }

    @Sendable func friends(_ request: Request, context: ChatRequestContext) async throws -> Response {
        let caller = try context.requireUser()
        let pagination = Pagination(request, context: context)
        let page = try await store.friends(of: caller.id, limit: pagination.limit, offset: pagination.offset)
        return pagination.response(page) { $0.json }
    }

    @Sendable func invite(_ request: Request, context: ChatRequestContext) async throws -> Response {
        let caller = try context.requireUser()
        var fields = try await RequestFields.read(request, context: context)
        let uuid = fields.uuid("user_uuid")
        if uuid == caller.uuid { fields.fail("user_uuid", "You cannot invite yourself.") }
        try fields.validate()
        guard let uuid, let invitee = try await store.user(uuid: uuid) else { throw APIError.notFound }
        do {
            try await store.invite(inviterID: caller.id, inviteeID: invitee.id)
        } catch StoreConflict.contactExists {
            throw APIError(.notAcceptable, body: nil)
        }
        return .empty(.created)
    }

    @Sendable func invitations(_ request: Request, context: ChatRequestContext) async throws -> Response {
        let caller = try context.requireUser()
        let invitations = try await store.pendingInvitations(inviteeID: caller.id)
        guard !invitations.isEmpty else { return .empty(.noContent) }
        return .json(
            .array(
                invitations.map {
                    ["id": .int($0.id), "first_user": .string($0.inviterUsername), "second_user": .string($0.inviteeUsername)]
                }
            )
        )
    }

    @Sendable func answerInvitation(_ request: Request, context: ChatRequestContext) async throws -> Response {
        let caller = try context.requireUser()
        let fields = try await RequestFields.readAnsweringEmptyBadRequest(request, context: context)
        guard let contactID = Self.integer(fields["contact_id"]), let decision = Self.boolean(fields["decision"]) else {
            throw APIError.badRequest
        }
        // Only the invitee may answer: to anyone else the invitation does not exist.
        guard let contact = try await store.contact(id: contactID), contact.inviteeID == caller.id else {
            throw APIError.notFound
        }
        if contact.accepted { return .empty(.alreadyReported208) }
        guard decision else {
            try await store.deleteContact(id: contact.id)
            return .empty(.ok)
        }
        guard let chat = try await store.accept(contact) else { return .empty(.alreadyReported208) }
        await events.announce(.added(chat: chat, userIDs: [contact.inviterID, contact.inviteeID]))
        let participants = try await store.participantUUIDs(chatID: chat.id)
        // A new chat: nothing sent, nothing read.
        let state = ChatReadState(chatID: chat.id, lastSeq: chat.lastSeq)
        return .json(chat.detailJSON(participantURLs: participants.map { Self.userURL($0, request, context) }, read: state), status: .created)
    }

    /// The absolute URL of a user's detail route, as the contract lists chat participants.
    static func userURL(_ uuid: UUID, _ request: Request, _ context: ChatRequestContext) -> String {
        Pagination.absoluteBase(request, context) + "/api/user/\(uuid.text)/"
    }

    /// The `:phrase` path parameter, bounded.
    static func phrase(_ context: ChatRequestContext) throws -> String {
        guard let raw = context.parameters.get("phrase") else { throw APIError.notFound }
        let phrase = raw.removingPercentEncoding ?? raw
        guard !phrase.isEmpty, phrase.count <= Limits.searchPhraseCharacters else {
            throw APIError.validation([("phrase", ["Ensure this field has no more than \(Limits.searchPhraseCharacters) characters."])])
        }
        return phrase
    }

    /// An integer, or a string of digits (DRF coerces those too).
    private static func integer(_ value: JSONValue?) -> Int64? {
        switch value {
        case .int(let int)?: int
        case .string(let text)?: Int64(text)
        default: nil
        }
    }

    /// A boolean, or DRF's accepted spellings of one.
    private static func boolean(_ value: JSONValue?) -> Bool? {
        switch value {
        case .bool(let bool)?: bool
        case .int(1)?: true
        case .int(0)?: false
        case .string(let text)?:
            switch text.lowercased() {
            case "true", "1", "yes", "on": true
            case "false", "0", "no", "off": false
            default: nil
            }
        default: nil
        }
    }
}
