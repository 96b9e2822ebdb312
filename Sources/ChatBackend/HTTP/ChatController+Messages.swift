import Hummingbird

/// `POST /api/chat/<uuid>/messages/`, `PATCH` and `DELETE /api/chat/<uuid>/messages/<id>/`:
/// sending without a socket (idempotent by `client_id`), editing and deleting, with the rules of
/// the user socket's `send`, `edit` and `delete` (PROTOCOL.md).
extension ChatController {
    func addMessageRoutes(to group: RouterGroup<ChatRequestContext>) {
        group.post(":uuid/messages/", use: sendMessage)
        group.patch(":uuid/messages/:id/", use: editMessage)
        group.delete(":uuid/messages/:id/", use: deleteMessage)
    }

    /// `{"message", "client_id"}` → the ack, 201 for a new message, 200 for a retry (which stores
    /// nothing and is not broadcast again). A new message reaches the chat's sockets exactly as a
    /// socket's `new_message` does.
    @Sendable func sendMessage(_ request: Request, context: ChatRequestContext) async throws -> Response {
        let caller = try context.requireUser()
        let chat = try await participantChat(context)
        var fields = try await RequestFields.read(request, context: context)
        let content = Self.messageText(&fields)
        let clientID = fields.string("client_id", maxLength: Limits.clientIDCharacters)
        try fields.validate()
        guard let content, let clientID else { throw APIError.badRequest }
        // The allowance every socket of the sender draws on: REST is no way around it.
        if let wait = messageLimiter?.take("user \(caller.id)") { throw APIError.throttled(retryAfter: wait) }
        let (channelLayer, metrics, logger) = (self.channelLayer, deliveryMetrics, context.logger)
        let stored = try await store.addMessage(chatID: chat.id, authorID: caller.id, content: content, clientID: clientID) { message in
            await channelLayer.publishNewMessage(message, chatUUID: chat.uuid, authorUUID: caller.uuid, metrics: metrics, logger: logger)
        }
        return .json(stored.message.ackJSON(chatUUID: chat.uuid), status: stored.isNew ? .created : .ok)
    }

    /// `{"message": "<new text>"}` → the edited message; its author only.
    @Sendable func editMessage(_ request: Request, context: ChatRequestContext) async throws -> Response {
        let caller = try context.requireUser()
        let chat = try await participantChat(context)
        let messageID = try Self.messageID(context)
        var fields = try await RequestFields.read(request, context: context)
        let content = Self.messageText(&fields)
        try fields.validate()
        guard let content else { throw APIError.badRequest }
        let message = try await Self.answeringMessageRefusals {
            try await store.editMessage(chatID: chat.id, messageID: messageID, editorID: caller.id, content: content)
        }
        await events.announce(.edited(chat: chat, message: message))
        return .json(message.json)
    }

    /// → 204; the author or the group's creator. The message stays in the history as a tombstone
    /// with its `seq`; deleting it again answers 204 too.
    @Sendable func deleteMessage(_ request: Request, context: ChatRequestContext) async throws -> Response {
        let caller = try context.requireUser()
        let chat = try await participantChat(context)
        let messageID = try Self.messageID(context)
        let message = try await Self.answeringMessageRefusals {
            try await store.deleteMessage(chatID: chat.id, messageID: messageID, deleterID: caller.id)
        }
        await events.announce(.deleted(chat: chat, message: message))
        return .empty(.noContent)
    }

    /// The `message` field of a send or an edit, by the chat socket's rules: text, not only white
    /// space, no control characters but newline and tab, at most ``Limits/messageCharacters``.
    static func messageText(_ fields: inout RequestFields) -> String? {
        guard let text = fields.string("message", maxLength: Limits.messageCharacters) else { return nil }
        guard !text.allSatisfy(\.isWhitespace) else {
            fields.fail("message", "This field may not be blank.")
            return nil
        }
        return text
    }

    /// The `:id` of a message route; anything but a positive integer names no message.
    private static func messageID(_ context: ChatRequestContext) throws -> Int64 {
        guard let id = context.parameters.get("id").flatMap({ Int64($0) }), id > 0 else { throw APIError.notFound }
        return id
    }

    /// Runs a change of a message, answering the store's refusals in the contract's shapes.
    private static func answeringMessageRefusals<T>(_ change: () async throws -> T) async throws -> T {
        do {
            return try await change()
        } catch let refusal as MessageChangeRefusal {
            switch refusal {
            case .notFound: throw APIError.notFound
            case .notParticipant: throw APIError.noAccess
            case .notPermitted: throw APIError.permissionDenied
            case .deleted: throw APIError.detail(.conflict, "The message was deleted.")
            }
        }
    }
}
