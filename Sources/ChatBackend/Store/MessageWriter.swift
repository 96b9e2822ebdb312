import DequeModule
import Synchronization

/// Group commit: messages sent at the same time are stored together, one transaction and a few
/// statements per batch instead of four round trips per message.
///
/// There is no writer task to start or stop. The first sender that finds the writer idle becomes
/// the leader: it stores batches until the queue is empty, then steps down. Senders arriving
/// meanwhile wait in the queue and are stored in the next batch, so the busier the server, the
/// larger the batches and the cheaper each message.
///
/// Within a batch each chat's messages take consecutive `seq`s in the order they were submitted,
/// and their publishes run after the commit, in that order. On SQLite (one writer) and in one node,
/// that order is the chat's order. Across PostgreSQL nodes, the chat rows are locked by the
/// transaction, so `seq`s never collide; publishes of two nodes may cross on the way, and the
/// receiving node puts them back in `seq` order (``ChatSequencer``).
///
/// A send may carry a client id, its idempotency key with its author and chat: a send whose key
/// is stored already (a retry) stores nothing, is not published, and gets the first message back.
/// Retries are rare, so a batch is first inserted without looking its keys up: a stored key fails
/// it at the unique index, the transaction rolls back (no `seq` is spent), and the batch is
/// stored again after a look-up (``KeyCheck``). The look-up inside the transaction cost a
/// statement per batch while the chats' rows were locked: user-socket sends were twice as slow
/// as chat-socket ones on PostgreSQL (`docs/performance.md`). The chat's row lock (PostgreSQL)
/// or the single writer (SQLite) orders a retry after its first send, so the look-up sees it.
final class MessageWriter: Sendable {
    /// A message to store, as ``store(_:)`` takes it.
    struct Send: Sendable {
        let chatID: Int64
        let authorID: Int64
        let content: String
        let clientID: String?
        let publish: @Sendable (Message) async -> Void

        /// The idempotency key, when the send has one.
        var key: SendKey? {
            clientID.map { SendKey(chatID: chatID, authorID: authorID, clientID: $0) }
        }
    }

    /// A send waiting to be stored, and whom to tell what it got.
    struct Pending: Sendable {
        let send: Send
        /// Called once with what the send got.
        let finish: @Sendable (Result<StoredMessage, any Error>) -> Void
    }

    /// How a batch's idempotency keys are checked.
    enum KeyCheck {
        /// Insert at once; a key stored already fails the insert at the unique index.
        case atTheIndex
        /// Look the keys up first (a key failed the first try).
        case lookUp
        /// Look the keys up, one last time (a retry raced its first send past the look-up).
        case lookUpLastTime

        /// The check for the next try after a unique violation, or nil when none is left.
        var next: KeyCheck? {
            switch self {
            case .atTheIndex: .lookUp
            case .lookUp: .lookUpLastTime
            case .lookUpLastTime: nil
            }
        }
    }

    /// A send's idempotency key: who sent it, where, with which client id.
    struct SendKey: Hashable {
        let chatID: Int64
        let authorID: Int64
        let clientID: String
    }

    private struct State {
        var queue: Deque<Pending> = []
        var leading = false
    }

    private let database: any SQLDatabase
    private let clock: @Sendable () -> Timestamp
    private let state = Mutex(State())

    /// The largest batch: bounds one transaction's statements (6 binds a message) and how long a
    /// sender at the back of a batch waits.
    static let batchLimit = 256

    init(database: any SQLDatabase, clock: @escaping @Sendable () -> Timestamp) {
        self.database = database
        self.clock = clock
    }

    /// Stores a message, runs `publish` once it and every message queued before it in its chat are
    /// committed and published, and returns it. A retry of a stored send (same chat, author and
    /// `clientID`) returns the first message, not new and not published again.
    func store(
        chatID: Int64, authorID: Int64, content: String, clientID: String?, publish: @escaping @Sendable (Message) async -> Void
    ) async throws -> StoredMessage {
        let send = Send(chatID: chatID, authorID: authorID, content: content, clientID: clientID, publish: publish)
        return try await store([send])[0].get()
    }

    /// Stores messages as the one-message ``store(chatID:authorID:content:clientID:publish:)``
    /// does, queued together in this order (so one chat's take consecutive `seq`s in it, and
    /// usually one transaction), and returns what each got, in the same order, once all are done.
    func store(_ sends: [Send]) async -> [Result<StoredMessage, any Error>] {
        guard !sends.isEmpty else { return [] }
        return await withCheckedContinuation { continuation in
            let results = ResultCollector(count: sends.count) { continuation.resume(returning: $0) }
            let pendings = sends.enumerated().map { index, send in Pending(send: send) { results.set(index, $0) } }
            let leads = state.withLock { state in
                state.queue.append(contentsOf: pendings)
                guard !state.leading else { return false }
                state.leading = true
                return true
            }
            // A task of its own, so the leader's senders are answered with their batch, not after the whole queue.
            if leads { Task { await self.lead() } }
        }
    }

    /// Stores batches until the queue is empty.
    private func lead() async {
        while let batch = nextBatch() {
            await commit(batch)
        }
    }

    private func nextBatch() -> [Pending]? {
        state.withLock { state in
            guard !state.queue.isEmpty else {
                state.leading = false
                return nil
            }
            let count = min(state.queue.count, Self.batchLimit)
            let batch = Array(state.queue.prefix(count))
            state.queue.removeFirst(count)
            return batch
        }
    }

    /// Commits a batch and publishes it in commit order.
    private func commit(_ batch: [Pending], keyCheck: KeyCheck = .atTheIndex) async {
        do {
            let results = try await insert(batch, keyCheck: keyCheck)
            for (pending, result) in zip(batch, results) {
                if result.isNew { await pending.send.publish(result.message) }
                pending.finish(.success(result))
            }
        } catch let error as SQLUniqueViolation {
            // A retry of a stored send (or one that raced its first send past the look-up): the
            // batch rolled back; stored again after a look-up, the retry gets the first message.
            guard let next = keyCheck.next else { return await fail(batch, with: error, keyCheck: keyCheck) }
            await commit(batch, keyCheck: next)
        } catch {
            await fail(batch, with: error, keyCheck: keyCheck)
        }
    }

    /// A batch that failed: each message is tried on its own, so one bad message (a chat deleted
    /// meanwhile) fails only its own sender; a lone message fails its sender.
    private func fail(_ batch: [Pending], with error: any Error, keyCheck: KeyCheck) async {
        if batch.count > 1 && !(error is DatabaseUnavailableError) {
            for pending in batch { await commit([pending], keyCheck: keyCheck) }
        } else {
            for pending in batch { pending.finish(.failure(error)) }
        }
    }

    /// Stores the batch in one transaction; returns what each send got, in the batch's order.
    private func insert(_ batch: [Pending], keyCheck: KeyCheck) async throws -> [StoredMessage] {
        let now = clock().microseconds
        let dialect = database.dialect
        return try await database.transaction { connection in
            if dialect.locksRowsForUpdate {
                // Rows locked in one order by every node, so two batches never deadlock; a retry
                // waits here for its first send's commit, and then sees it.
                let ids = Set(batch.map(\.send.chatID)).sorted()
                _ = try await connection.query(
                    "SELECT id FROM chats WHERE id IN (\(Self.placeholders(ids.count))) ORDER BY id FOR UPDATE", ids.map(SQLValue.int)
                )
            }
            let stored = keyCheck == .atTheIndex ? [:] : try await Self.storedSends(batch, on: connection)
            let plan = SendPlan(batch, stored: stored)
            let fresh = try await Self.insertFresh(plan.fresh.map { batch[$0].send }, on: connection, now: now, dialect: dialect)
            return plan.results(fresh: fresh)
        }
    }

    /// The messages already stored under the batch's idempotency keys (none for sends without one).
    private static func storedSends(_ batch: [Pending], on connection: any SQLConnection) async throws -> [SendKey: Message] {
        let keys = Set(batch.compactMap(\.send.key))
        guard !keys.isEmpty else { return [:] }
        let condition = Array(repeating: "(m.chat_id = ? AND m.author_id = ? AND m.client_id = ?)", count: keys.count)
            .joined(separator: " OR ")
        let rows = try await connection.query(
            "SELECT \(ChatStore.messageColumns) FROM messages m WHERE \(condition)",
            keys.flatMap { [.int($0.chatID), .int($0.authorID), .text($0.clientID)] }
        )
        var stored: [SendKey: Message] = [:]
        for message in try rows.map(ChatStore.message) {
            guard let clientID = message.clientID else { continue }
            stored[SendKey(chatID: message.chatID, authorID: message.authorID, clientID: clientID)] = message
        }
        return stored
    }

    /// Inserts new messages with their chats' next `seq`s; returns them in the given order.
    private static func insertFresh(
        _ fresh: [Send], on connection: any SQLConnection, now: Int64, dialect: SQLDialect
    ) async throws -> [Message] {
        guard !fresh.isEmpty else { return [] }
        let chats = BatchChats(fresh)
        let positions = try await connection.query(chats.advanceStatement(dialect: dialect), chats.advanceBinds(now: now))
        var first: [Int64: (seq: Int64, timeStamp: Int64)] = [:]
        for row in positions {
            let (chatID, count) = (try row.int("id"), Int64(chats.counts[try row.int("id")] ?? 0))
            first[chatID] = (try row.int("last_seq") - count + 1, try row.int("last_activity_at") - count + 1)
        }
        guard first.count == chats.ids.count else { throw ChatGone() }

        var messages: [Message] = []
        var binds: [SQLValue] = []
        for send in fresh {
            let (seq, timeStamp) = first[send.chatID]!
            first[send.chatID] = (seq + 1, timeStamp + 1)
            messages.append(Message(
                id: 0, chatID: send.chatID, seq: seq, authorID: send.authorID,
                content: send.content, timeStamp: Timestamp(microseconds: timeStamp), clientID: send.clientID
            ))
            binds += [
                .int(send.chatID), .int(seq), .int(send.authorID), .text(send.content), .int(timeStamp),
                send.clientID.map(SQLValue.text) ?? .null,
            ]
        }
        let rows = try await connection.query(
            "INSERT INTO messages (chat_id, seq, author_id, content, time_stamp, client_id) VALUES "
                + Array(repeating: "(?, ?, ?, ?, ?, ?)", count: fresh.count).joined(separator: ", ")
                + " RETURNING id, chat_id, seq",
            binds
        )
        // RETURNING's row order is not promised: match the ids by (chat, seq).
        var ids: [ChatPosition: Int64] = [:]
        for row in rows { ids[ChatPosition(chatID: try row.int("chat_id"), seq: try row.int("seq"))] = try row.int("id") }
        for index in messages.indices {
            guard let id = ids[ChatPosition(chatID: messages[index].chatID, seq: messages[index].seq)] else {
                throw SQLRowError.unexpectedValue("id")
            }
            messages[index].id = id
        }
        return messages
    }

    static func placeholders(_ count: Int) -> String {
        Array(repeating: "?", count: count).joined(separator: ", ")
    }

    private struct ChatPosition: Hashable {
        let chatID: Int64
        let seq: Int64
    }

    /// A message's chat no longer exists (deleted while the message waited).
    struct ChatGone: Error {}
}

/// The results of sends stored together, handed over once the last is in.
private final class ResultCollector: Sendable {
    private struct State {
        var results: [Result<StoredMessage, any Error>?]
        var missing: Int
    }

    private let state: Mutex<State>
    private let done: @Sendable ([Result<StoredMessage, any Error>]) -> Void

    init(count: Int, done: @escaping @Sendable ([Result<StoredMessage, any Error>]) -> Void) {
        self.state = Mutex(State(results: Array(repeating: nil, count: count), missing: count))
        self.done = done
    }

    /// Records the result of the send at `index` (each is set once).
    func set(_ index: Int, _ result: Result<StoredMessage, any Error>) {
        let all = state.withLock { state -> [Result<StoredMessage, any Error>]? in
            state.results[index] = result
            state.missing -= 1
            return state.missing == 0 ? state.results.map { $0! } : nil
        }
        if let all { done(all) }
    }
}

/// What each send of a batch gets: a message stored earlier under its key (a retry), the message
/// of an earlier send of the same batch with its key (a retry that came before the first was
/// stored), or a new message.
private struct SendPlan {
    private enum Outcome {
        case stored(Message)
        case sameAs(Int)
        case fresh(Int)
    }

    private let outcomes: [Outcome]
    /// The batch's indices of the sends that store a new message, in the batch's order.
    let fresh: [Int]

    init(_ batch: [MessageWriter.Pending], stored: [MessageWriter.SendKey: Message]) {
        var outcomes: [Outcome] = []
        var fresh: [Int] = []
        var firstInBatch: [MessageWriter.SendKey: Int] = [:]
        for (index, pending) in batch.enumerated() {
            if let key = pending.send.key, let message = stored[key] {
                outcomes.append(.stored(message))
            } else if let key = pending.send.key, let first = firstInBatch[key] {
                outcomes.append(.sameAs(first))
            } else {
                if let key = pending.send.key { firstInBatch[key] = index }
                outcomes.append(.fresh(fresh.count))
                fresh.append(index)
            }
        }
        self.outcomes = outcomes
        self.fresh = fresh
    }

    /// Each send's result, given the new messages in the order of ``fresh``.
    func results(fresh messages: [Message]) -> [StoredMessage] {
        outcomes.map { outcome in
            switch outcome {
            case .stored(let message):
                return StoredMessage(message: message, isNew: false)
            case .sameAs(let first):
                guard case .fresh(let position) = outcomes[first] else { preconditionFailure("a key's first send is fresh") }
                return StoredMessage(message: messages[position], isNew: false)
            case .fresh(let position):
                return StoredMessage(message: messages[position], isNew: true)
            }
        }
    }
}

/// The chats of one batch, with how many messages each takes and its newest content.
private struct BatchChats {
    let ids: [Int64]
    let counts: [Int64: Int]
    let lastContent: [Int64: String]

    init(_ batch: [MessageWriter.Send]) {
        var ids: [Int64] = []
        var counts: [Int64: Int] = [:]
        var lastContent: [Int64: String] = [:]
        for send in batch {
            if counts[send.chatID] == nil { ids.append(send.chatID) }
            counts[send.chatID, default: 0] += 1
            lastContent[send.chatID] = send.content
        }
        self.ids = ids.sorted()
        self.counts = counts
        self.lastContent = lastContent
    }

    /// One statement moves every chat of the batch forward: `last_seq` by its message count, and
    /// the time stamps to consecutive microseconds after both the clock and the chat's newest
    /// message, so a chat's time stamps only ever grow (an old client pages history by them alone).
    func advanceStatement(dialect: SQLDialect) -> String {
        let values = Array(repeating: "(?, ?, ?, ?)", count: ids.count).joined(separator: ", ")
        return """
            WITH batch(chat_id, message_count, newest, now) AS (VALUES \(values))
            UPDATE chats SET
                last_seq = chats.last_seq + batch.message_count,
                last_message = batch.newest,
                last_activity_at = \(dialect.greatest)(
                    batch.now,
                    COALESCE((SELECT MAX(time_stamp) FROM messages WHERE messages.chat_id = chats.id), 0) + 1
                ) + batch.message_count - 1
            FROM batch WHERE chats.id = batch.chat_id
            RETURNING chats.id, chats.last_seq, chats.last_activity_at
            """
    }

    func advanceBinds(now: Int64) -> [SQLValue] {
        ids.flatMap { id in [.int(id), .int(Int64(counts[id]!)), .text(lastContent[id]!), .int(now)] }
    }
}
