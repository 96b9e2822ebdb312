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
    /// The list form: `{"id", "uuid", "name", "is_group_chat", "last_activity_date", "lastmessage"}`.
    var json: JSONValue {
        [
            "id": .int(id),
            "uuid": .string(uuid.text),
            "name": .string(name),
            "is_group_chat": .bool(isGroup),
            "last_activity_date": .string(lastActivity.restText),
            "lastmessage": .string(lastMessage),
        ]
    }

    /// The detail form, adding the participants' absolute user URLs.
    func detailJSON(participantURLs: [String]) -> JSONValue {
        guard case .object(var members) = json else { return json }
        members.insert(("participants", .array(participantURLs.map(JSONValue.string))), at: 4)
        return .object(members)
    }
}

extension Message {
    /// The socket form: `{"author_id", "content", "time_stamp"}` plus the additive `"id"` paging
    /// cursor and `"seq"`, the message's position in its chat.
    var json: JSONValue {
        [
            "author_id": .int(authorID),
            "content": .string(content),
            "time_stamp": .string(timeStamp.socketText),
            "id": .int(id),
            "seq": .int(seq),
        ]
    }
}
