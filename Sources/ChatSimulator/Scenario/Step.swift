extension Scenario {
    /// One step: a map with one key, its kind, whose value holds that kind's fields.
    public enum Step: Sendable, Decodable {
        case invite(InviteStep)
        case accept(AnswerStep)
        case decline(AnswerStep)
        case group(GroupStep)
        case add(AddStep)
        case connect(ConnectStep)
        case disconnect(DisconnectStep)
        case send(SendStep)
        case talk(TalkStep)
        case history(HistoryStep)
        case frame(FrameStep)
        case request(RequestStep)
        case logout(LogoutStep)
        /// Waits until every open socket has every message it should have.
        case settle
        // The user socket, `/ws/` (PROTOCOL.md), and the REST additions around it.
        case userSocket(UserSocketStep)
        case retry(RetryStep)
        case drop(DropStep)
        case resume(ResumeStep)
        case edit(EditStep)
        case delete(DeleteStep)
        case typing(TypingStep)
        case read(ReadStep)
        case leave(LeaveStep)
        case remove(RemoveStep)
        case rename(RenameStep)

        /// The kind, as the file names it.
        public var kind: String {
            switch self {
            case .invite: "invite"
            case .accept: "accept"
            case .decline: "decline"
            case .group: "group"
            case .add: "add"
            case .connect: "connect"
            case .disconnect: "disconnect"
            case .send: "send"
            case .talk: "talk"
            case .history: "history"
            case .frame: "frame"
            case .request: "request"
            case .logout: "logout"
            case .settle: "settle"
            case .userSocket: "user_socket"
            case .retry: "retry"
            case .drop: "drop"
            case .resume: "resume"
            case .edit: "edit"
            case .delete: "delete"
            case .typing: "typing"
            case .read: "read"
            case .leave: "leave"
            case .remove: "remove"
            case .rename: "rename"
            }
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: AnyFieldKey.self)
            guard container.allKeys.count == 1, let key = container.allKeys.first else {
                throw DecodingError.dataCorrupted(.init(
                    codingPath: decoder.codingPath,
                    debugDescription: "a step is a map with exactly one key (its kind), got \(container.allKeys.map(\.stringValue).sorted())"
                ))
            }
            guard let decode = Self.decoders[key.stringValue] else {
                throw DecodingError.dataCorruptedError(
                    forKey: key, in: container,
                    debugDescription: "unknown step kind '\(key.stringValue)' (kinds: \(Self.decoders.keys.sorted().joined(separator: ", ")))"
                )
            }
            self = try decode(container, key)
        }

        private typealias Decode = @Sendable (KeyedDecodingContainer<AnyFieldKey>, AnyFieldKey) throws -> Step

        /// How to decode each kind: its fields, strictly, into its case.
        private static let decoders: [String: Decode] = [
            "invite": kind(Step.invite), "accept": kind(Step.accept), "decline": kind(Step.decline),
            "group": kind(Step.group), "add": kind(Step.add),
            "connect": kind(Step.connect), "disconnect": kind(Step.disconnect), "send": kind(Step.send), "talk": kind(Step.talk),
            "history": kind(Step.history), "frame": kind(Step.frame),
            "request": kind(Step.request), "logout": kind(Step.logout),
            "user_socket": kind(Step.userSocket), "retry": kind(Step.retry), "drop": kind(Step.drop), "resume": kind(Step.resume),
            "edit": kind(Step.edit), "delete": kind(Step.delete), "typing": kind(Step.typing), "read": kind(Step.read),
            "leave": kind(Step.leave), "remove": kind(Step.remove), "rename": kind(Step.rename),
            // No fields: `- settle:` or `- settle: {}`.
            "settle": { container, key in
                if try !container.decodeNil(forKey: key) { _ = try container.decode(Strict<NoFields>.self, forKey: key) }
                return .settle
            },
        ]

        private static func kind<Fields: Decodable & Sendable>(_ step: @escaping @Sendable (Fields) -> Step) -> Decode {
            { container, key in step(try container.decode(Strict<Fields>.self, forKey: key).fields) }
        }
    }
}

/// The fields of `settle`: none.
struct NoFields: Decodable {}
