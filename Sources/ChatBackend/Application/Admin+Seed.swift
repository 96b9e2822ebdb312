import Foundation

extension Admin {
    /// The bounds of `chat-server seed`.
    public static let seedLimits = (users: 10_000, chats: 1_000, messages: 10_000)
    /// The password of the demo users unless one is given.
    public static let defaultSeedPassword = "Seed-pass-2024"

    /// What `seed` made and what it found made already.
    public struct SeedReport: Sendable, Equatable {
        public var usersCreated = 0
        public var usersExisting = 0
        public var friendshipsCreated = 0
        public var friendshipsExisting = 0
        public var chatsCreated = 0
        public var chatsExisting = 0
        public var messagesCreated = 0

        /// The report as lines of plain text.
        public var lines: [String] {
            [
                "users: \(usersCreated) created, \(usersExisting) already existed",
                "friendships: \(friendshipsCreated) created, \(friendshipsExisting) already existed",
                "group chats: \(chatsCreated) created, \(chatsExisting) already existed",
                "messages: \(messagesCreated) created",
            ]
        }
    }

    /// The e-mail of demo user `index` (1-based).
    public static func seedEmail(_ index: Int) -> String { "seed-\(index)@example.com" }
    /// The name of demo group chat `index` (1-based).
    public static func seedChatName(_ index: Int) -> String { "seed-chat-\(index)" }

    /// Demo data on any backend: users `seed-1`…`seed-N` (all with `password`), each a friend of
    /// the next (with their private chat), and `chats` group chats `seed-chat-1`…, each of a user
    /// and their friends, with `messages` messages, written through the store so `seq` and
    /// `last_seq` are right.
    ///
    /// Run again, it creates only what is missing: existing users, friendships and chats are kept
    /// (and counted as existing), and a chat with fewer than `messages` messages gets the rest.
    public static func seed(
        _ configuration: AppConfiguration, users: Int, chats: Int, messages: Int, password: String = defaultSeedPassword
    ) async throws -> SeedReport {
        guard (1...seedLimits.users).contains(users) else { throw AdminError("--users must be between 1 and \(seedLimits.users)") }
        guard (0...seedLimits.chats).contains(chats) else { throw AdminError("--chats must be between 0 and \(seedLimits.chats)") }
        guard (0...seedLimits.messages).contains(messages) else { throw AdminError("--messages must be between 0 and \(seedLimits.messages)") }
        let violations = configuration.accounts.passwordPolicy.check(password, username: "seed-1", email: seedEmail(1))
        guard violations.isEmpty else {
            throw AdminError("password refused: " + (violations.password + violations.similarity).joined(separator: " "))
        }
        return try await withStore(configuration) { store, hasher in
            var report = SeedReport()
            // One hash for all: bcrypt at cost 12 ten thousand times would take most of an hour.
            let hash = try await hasher.whileRunning { try await hasher.hash(password) }
            var people: [User] = []
            for index in 1...users {
                if let existing = try await store.user(email: seedEmail(index)) {
                    people.append(existing)
                    report.usersExisting += 1
                } else {
                    people.append(try await store.createUser(email: seedEmail(index), username: "seed-\(index)", passwordHash: hash, emailVerified: true))
                    report.usersCreated += 1
                }
            }
            for (a, b) in zip(people, people.dropFirst()) {
                if try await makeFriends(a, b, store: store) { report.friendshipsCreated += 1 } else { report.friendshipsExisting += 1 }
            }
            guard chats > 0 else { return report }
            for index in 1...chats {
                // The creator and their friends (the users before and after them), as the API allows.
                let position = (index - 1) % people.count
                let creator = people[position]
                let members = [position, position - 1, position + 1].filter(people.indices.contains).map { people[$0] }
                let chat: Chat
                if let existing = try await groupChat(named: seedChatName(index), of: creator, store: store) {
                    chat = existing
                    report.chatsExisting += 1
                } else {
                    chat = try await store.createGroupChat(name: seedChatName(index), creatorID: creator.id)
                    for member in members where member.id != creator.id {
                        _ = try await store.addParticipant(userID: member.id, chatID: chat.id)
                    }
                    report.chatsCreated += 1
                }
                guard chat.lastSeq < Int64(messages) else { continue }
                for number in (chat.lastSeq + 1)...Int64(messages) {
                    let author = members[Int(number) % members.count]
                    _ = try await store.addMessage(chatID: chat.id, authorID: author.id, content: "Demo message \(number) in \(seedChatName(index))") { _ in }
                    report.messagesCreated += 1
                }
            }
            return report
        }
    }

    /// Makes two users friends (their private chat opens); false when they were already friends.
    private static func makeFriends(_ a: User, _ b: User, store: ChatStore) async throws -> Bool {
        if try await store.areFriends(a.id, b.id) { return false }
        do {
            try await store.invite(inviterID: a.id, inviteeID: b.id)
        } catch StoreConflict.contactExists {
            // An invitation left pending (by a user, or an interrupted seed): accept it below.
        }
        var invitation = try await store.pendingInvitations(inviteeID: b.id).first { $0.inviterUsername == a.username }
        if invitation == nil {
            invitation = try await store.pendingInvitations(inviteeID: a.id).first { $0.inviterUsername == b.username }
        }
        guard let invitation, let contact = try await store.contact(id: invitation.id) else { return false }
        return try await store.accept(contact) != nil
    }

    /// The creator's group chat of this name, if the seed made it already.
    private static func groupChat(named name: String, of user: User, store: ChatStore) async throws -> Chat? {
        var offset = 0
        while true {
            let page = try await store.chats(of: user.id, kind: .groups, limit: 500, offset: offset)
            if let chat = page.items.first(where: { $0.name == name }) { return chat }
            offset += page.items.count
            if page.items.isEmpty || offset >= page.total { return nil }
        }
    }
}
