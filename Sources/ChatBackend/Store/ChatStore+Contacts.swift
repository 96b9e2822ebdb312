import Foundation

/// Invitations and friendships: a contact row is an invitation until its invitee accepts it.
extension ChatStore {
    /// Records that `inviterID` invites `inviteeID`; throws ``StoreConflict/contactExists`` when
    /// the two are friends already or an invitation exists in either direction.
    public func invite(inviterID: Int64, inviteeID: Int64) async throws {
        let now = clock().microseconds
        do {
            try await insertInvitation(inviterID: inviterID, inviteeID: inviteeID, now: now)
        } catch is SQLUniqueViolation {
            throw StoreConflict.contactExists
        }
    }

    private func insertInvitation(inviterID: Int64, inviteeID: Int64, now: Int64) async throws {
        try await database.transaction { connection in
            let existing = try await connection.query(
                """
                SELECT id FROM contacts
                WHERE (inviter_id = ? AND invitee_id = ?) OR (inviter_id = ? AND invitee_id = ?)
                """,
                [.int(inviterID), .int(inviteeID), .int(inviteeID), .int(inviterID)]
            )
            guard existing.isEmpty else { throw StoreConflict.contactExists }
            _ = try await connection.query(
                "INSERT INTO contacts (inviter_id, invitee_id, accepted, created_at) VALUES (?, ?, 0, ?)",
                [.int(inviterID), .int(inviteeID), .int(now)]
            )
        }
    }

    /// The invitations `userID` received and has not answered, oldest first.
    public func pendingInvitations(inviteeID: Int64) async throws -> [Invitation] {
        try await database.read(
            """
            SELECT ct.id, a.username AS inviter, b.username AS invitee
            FROM contacts ct JOIN users a ON a.id = ct.inviter_id JOIN users b ON b.id = ct.invitee_id
            WHERE ct.invitee_id = ? AND ct.accepted = 0
            ORDER BY ct.id
            """,
            [.int(inviteeID)]
        ).map {
            Invitation(id: try $0.int("id"), inviterUsername: try $0.string("inviter"), inviteeUsername: try $0.string("invitee"))
        }
    }

    /// The contact with this id, if any.
    public func contact(id: Int64) async throws -> Contact? {
        try await database.read(
            "SELECT id, inviter_id, invitee_id, accepted FROM contacts WHERE id = ?", [.int(id)]
        ).first.map {
            Contact(
                id: try $0.int("id"),
                inviterID: try $0.int("inviter_id"),
                inviteeID: try $0.int("invitee_id"),
                accepted: try $0.bool("accepted")
            )
        }
    }

    /// Accepts a pending invitation and opens the two friends' private chat, atomically.
    ///
    /// Returns nil when the invitation was accepted already (by a concurrent request, say).
    public func accept(_ contact: Contact) async throws -> Chat? {
        let now = clock()
        return try await database.transaction { connection in
            let updated = try await connection.query(
                "UPDATE contacts SET accepted = 1 WHERE id = ? AND accepted = 0 RETURNING id", [.int(contact.id)]
            )
            guard !updated.isEmpty else { return nil }
            return try await Self.insertChat(
                on: connection, name: nil, isGroup: false, participants: [contact.inviterID, contact.inviteeID], at: now
            )
        }
    }

    /// Deletes a contact (a declined invitation).
    public func deleteContact(id: Int64) async throws {
        _ = try await database.query("DELETE FROM contacts WHERE id = ?", [.int(id)])
    }

    /// The friends of a user (accepted contacts in either direction), by username.
    public func friends(of userID: Int64, limit: Int, offset: Int) async throws -> Page<User> {
        let friendIDs = """
            SELECT invitee_id FROM contacts WHERE inviter_id = ? AND accepted = 1
            UNION SELECT inviter_id FROM contacts WHERE invitee_id = ? AND accepted = 1
            """
        let binds: [SQLValue] = [.int(userID), .int(userID)]
        let total = try Self.count(
            await database.read("SELECT COUNT(*) AS n FROM users u WHERE u.id IN (\(friendIDs))", binds)
        )
        let rows = try await database.read(
            "SELECT \(Self.userColumns) FROM users u WHERE u.id IN (\(friendIDs)) ORDER BY u.username_key, u.id LIMIT ? OFFSET ?",
            binds + [.int(Int64(limit)), .int(Int64(offset))]
        )
        return Page(items: try rows.map(Self.user), total: total)
    }

    /// Which of `candidateIDs` are friends of `userID`.
    public func friendIDs(of userID: Int64, among candidateIDs: [Int64]) async throws -> Set<Int64> {
        guard !candidateIDs.isEmpty else { return [] }
        let placeholders = Array(repeating: "?", count: candidateIDs.count).joined(separator: ", ")
        let candidates = candidateIDs.map(SQLValue.int)
        let rows = try await database.read(
            """
            SELECT invitee_id AS friend FROM contacts WHERE inviter_id = ? AND accepted = 1 AND invitee_id IN (\(placeholders))
            UNION SELECT inviter_id FROM contacts WHERE invitee_id = ? AND accepted = 1 AND inviter_id IN (\(placeholders))
            """,
            [.int(userID)] + candidates + [.int(userID)] + candidates
        )
        return Set(try rows.map { try $0.int("friend") })
    }

    /// Whether two users are friends.
    public func areFriends(_ a: Int64, _ b: Int64) async throws -> Bool {
        try await !friendIDs(of: a, among: [b]).isEmpty
    }
}
