import Foundation

/// The contract's JSON forms of the models.
extension User {
    /// `{"email", "id", "uuid", "username", "photo", "is_active"}`.
    var json: JSONValue {
        [
            "email": .string(email),
            "id": .int(id),
            "uuid": .string(uuid.text),
            "username": .string(username),
            "photo": .null,
            "is_active": .bool(isActive),
        ]
    }

    /// The search form, with whether the caller is a friend.
    func searchJSON(isFriend: Bool) -> JSONValue {
        guard case .object(var members) = json else { return json }
        members.append(("is_friend_of_current_user", .bool(isFriend)))
        return .object(members)
    }
}

extension Chat {
    /// The list form: `{"id", "uuid", "name", "is_group_chat", "last_activity_date", "lastmessage"}`,
    /// plus the additive `last_seq`, `read_seq` and `unread` of the caller's `read` state.
    func json(_ read: ChatReadState) -> JSONValue {
        [
            "id": .int(id),
            "uuid": .string(uuid.text),
            "name": .string(name),
            "is_group_chat": .bool(isGroup),
            "last_activity_date": .string(lastActivity.restText),
            "lastmessage": .string(lastMessage),
            "last_seq": .int(read.lastSeq),
            "read_seq": .int(read.readSeq),
            "unread": .int(read.unread),
        ]
    }

    /// The detail form, adding the participants' absolute user URLs and the additive
    /// `creator_id` (the user id of the group's creator, who may remove members; null for a
    /// private chat).
    func detailJSON(participantURLs: [String], read: ChatReadState) -> JSONValue {
        guard case .object(var members) = json(read) else { return json(read) }
        members.insert(("participants", .array(participantURLs.map(JSONValue.string))), at: 4)
        members.append(("creator_id", creatorID.map(JSONValue.int) ?? .null))
        return .object(members)
    }
}

extension ChatReadState {
    /// `{"chat", "last_seq", "read_seq", "unread"}`: one chat of the user socket's `hello`, and
    /// the answer to a read marker.
    func json(chatUUID: UUID) -> JSONValue {
        ["chat": .string(chatUUID.text), "last_seq": .int(lastSeq), "read_seq": .int(readSeq), "unread": .int(unread)]
    }
}

extension Message {
    /// The socket form: `{"author_id", "content", "time_stamp"}` plus the additive `"id"` paging
    /// cursor and `"seq"`, the message's position in its chat; an edited message adds
    /// `"edited_at"` and a deleted one `"deleted": true`. Those two appear only when they say
    /// something, so a new message's broadcast is what chat sockets always got, plus `seq`.
    var json: JSONValue {
        var members: [(String, JSONValue)] = [
            ("author_id", .int(authorID)),
            ("content", .string(content)),
            ("time_stamp", .string(timeStamp.socketText)),
            ("id", .int(id)),
            ("seq", .int(seq)),
        ]
        if let editedAt { members.append(("edited_at", .string(editedAt.socketText))) }
        if deleted { members.append(("deleted", .bool(true))) }
        return .object(members)
    }

    /// The acknowledgement of a send: `{"client_id", "chat", "id", "seq", "time_stamp"}`, the same
    /// for the first send and every retry.
    func ackJSON(chatUUID: UUID) -> JSONValue {
        [
            "client_id": .string(clientID),
            "chat": .string(chatUUID.text),
            "id": .int(id),
            "seq": .int(seq),
            "time_stamp": .string(timeStamp.socketText),
        ]
    }
}
