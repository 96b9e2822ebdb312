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
    public var actors: [Actor]
    public var steps: [Step]

    private enum CodingKeys: String, CodingKey {
        case name, description, actors, steps
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        description = try container.decodeIfPresent(String.self, forKey: .description)
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
