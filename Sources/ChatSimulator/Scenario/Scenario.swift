import ChatBackend
import Foundation
import Yams

/// A scenario file: who takes part, and what they do, step by step. Data, not code: see
/// `docs/scenarios.md` for the format.
///
/// Decoding is strict: an unknown, missing or mistyped field is an error when the file is loaded,
/// naming the file, the step and the field, rather than a surprise half-way through a run.
public struct Scenario: Sendable, Decodable {
    /// A person in the scenario.
    public struct Actor: Sendable, Decodable {
        /// How an actor gets an account.
        public enum SignUp: String, Sendable, Decodable {
            /// E-mail and password (the default).
            case password
            /// Through the simulator's fake Google issuer.
            case google
        }

        public var name: String
        public var signup: SignUp?
    }

    public var name: String
    public var description: String?
    /// What the scenario checks: the original's contract, our extensions, or both. None: the
    /// scenario runs only when no `--only` is given.
    public var tags: [ScenarioTag]
    public var actors: [Actor]
    public var steps: [Step]

    private enum CodingKeys: String, CodingKey {
        case name, description, tags, actors, steps
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        description = try container.decodeIfPresent(String.self, forKey: .description)
        tags = try container.decodeIfPresent([ScenarioTag].self, forKey: .tags) ?? []
        actors = try container.decode([Strict<Actor>].self, forKey: .actors).map(\.fields)
        steps = try container.decode([Step].self, forKey: .steps)
    }

    /// Reads a scenario file; a file that does not follow the format is refused with the place
    /// (step and field) that does not.
    public static func load(_ url: URL) throws -> Scenario {
        let text = try String(contentsOf: url, encoding: .utf8)
        do {
            return try YAMLDecoder().decode(Strict<Scenario>.self, from: text).fields
        } catch let error as DecodingError {
            throw SimulatorError("\(url.lastPathComponent): \(ScenarioFormatError(error))")
        } catch {
            throw SimulatorError("\(url.lastPathComponent) is not a valid scenario: \(error)")
        }
    }

    /// Whether the scenario carries one of `tags`; nil (no `--only`) selects every scenario.
    public func isSelected(by tags: Set<ScenarioTag>?) -> Bool {
        guard let tags else { return true }
        return !tags.isDisjoint(with: self.tags)
    }

    /// The scenario files of a list of files and folders (folders: their `*.yaml` / `*.yml`, sorted).
    public static func files(in paths: [String]) throws -> [URL] {
        var urls: [URL] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw SimulatorError("no such scenario file or folder: \(path)")
            }
            if isDirectory.boolValue {
                let names = try FileManager.default.contentsOfDirectory(atPath: path)
                    .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
                urls += names.map { URL(fileURLWithPath: path).appendingPathComponent($0) }
            } else {
                urls.append(URL(fileURLWithPath: path))
            }
        }
        return urls
    }
}

/// What a scenario checks, so a run can pick a part of the suite (`chat-sim run --only contract`).
public enum ScenarioTag: String, Sendable, Decodable, CaseIterable, Comparable {
    /// Behaviour of the original Django back-end, as `API.md` and `original-observed.md` record
    /// it: what any server speaking the contract must do, the original included.
    case contract
    /// What this server adds or does differently on purpose (`seq`, REST sends, idempotency
    /// keys, socket refusals answered at the handshake, error frames, Google sign-in): the
    /// original fails these.
    case `extension`

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let tag = ScenarioTag(rawValue: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: Self.unknown(text)))
        }
        self = tag
    }

    /// The tags of a comma-separated list (`contract`, `contract,extension`); an unknown one is
    /// refused with the list of known ones.
    public static func parse(list: String) throws -> Set<ScenarioTag> {
        let names = list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !names.isEmpty else { throw SimulatorError("no tag given (tags: \(known))") }
        return Set(try names.map { name in
            guard let tag = ScenarioTag(rawValue: name) else { throw SimulatorError(unknown(name)) }
            return tag
        })
    }

    public static func < (lhs: ScenarioTag, rhs: ScenarioTag) -> Bool {
        lhs.rawValue < rhs.rawValue
    }

    private static var known: String { allCases.map(\.rawValue).joined(separator: ", ") }

    private static func unknown(_ name: String) -> String {
        "unknown tag '\(name)' (tags: \(known))"
    }
}
