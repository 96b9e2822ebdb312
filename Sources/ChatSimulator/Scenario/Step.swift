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

        private typealias Container = KeyedDecodingContainer<AnyFieldKey>

        private static let decoders: [String: @Sendable (Container, AnyFieldKey) throws -> Step] = [
            "invite": { .invite(try $0.decode(Strict<InviteStep>.self, forKey: $1).fields) },
            "accept": { .accept(try $0.decode(Strict<AnswerStep>.self, forKey: $1).fields) },
            "decline": { .decline(try $0.decode(Strict<AnswerStep>.self, forKey: $1).fields) },
            "group": { .group(try $0.decode(Strict<GroupStep>.self, forKey: $1).fields) },
            "add": { .add(try $0.decode(Strict<AddStep>.self, forKey: $1).fields) },
            "connect": { .connect(try $0.decode(Strict<ConnectStep>.self, forKey: $1).fields) },
            "disconnect": { .disconnect(try $0.decode(Strict<DisconnectStep>.self, forKey: $1).fields) },
            "send": { .send(try $0.decode(Strict<SendStep>.self, forKey: $1).fields) },
            "talk": { .talk(try $0.decode(Strict<TalkStep>.self, forKey: $1).fields) },
            "history": { .history(try $0.decode(Strict<HistoryStep>.self, forKey: $1).fields) },
            "frame": { .frame(try $0.decode(Strict<FrameStep>.self, forKey: $1).fields) },
            "request": { .request(try $0.decode(Strict<RequestStep>.self, forKey: $1).fields) },
            "logout": { .logout(try $0.decode(Strict<LogoutStep>.self, forKey: $1).fields) },
            // `settle` has no fields: `- settle:` or `- settle: {}`.
            "settle": { container, key in
                if try !container.decodeNil(forKey: key) { _ = try container.decode(Strict<NoFields>.self, forKey: key) }
                return .settle
            },
        ]
    }
}

/// The fields of `settle`: none.
struct NoFields: StepFields {
    enum CodingKeys: CodingKey, CaseIterable {}

    init(from decoder: any Decoder) throws {}
}
