import ChatBackend
import Foundation
import Yams

/// A scenario file: who takes part, and what they do, step by step. Data, not code: see
/// `docs/scenarios.md` for the format.
public struct Scenario: Sendable, Decodable {
    /// A person in the scenario.
    public struct Actor: Sendable, Decodable {
        public var name: String
        /// `password` (the default) or `google` (through the fake Google issuer).
        public var signup: String?
    }

    /// One step: its kind (the YAML key) and its fields.
    public struct Step: Sendable, Decodable {
        public var kind: String
        public var fields: StepFields

        public init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            let map = try container.decode([String: StepFields].self)
            guard map.count == 1, let (kind, fields) = map.first else {
                throw SimulatorError("a step must be a map with exactly one key (its kind), got \(map.keys.sorted())")
            }
            self.kind = kind
            self.fields = fields
        }
    }

    public var name: String
    public var description: String?
    public var actors: [Actor]
    public var steps: [Step]

    /// Reads a scenario file.
    public static func load(_ url: URL) throws -> Scenario {
        let text = try String(contentsOf: url, encoding: .utf8)
        do {
            return try YAMLDecoder().decode(Scenario.self, from: text)
        } catch let error as SimulatorError {
            throw SimulatorError("\(url.lastPathComponent): \(error.description)")
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

/// The fields a step may have; which ones a kind needs is checked when it runs.
public struct StepFields: Sendable, Decodable {
    public var actor: String?
    public var actors: [String]?
    public var from: String?
    public var to: String?
    public var user: String?
    public var chat: String?
    public var name: String?
    public var text: String?
    public var count: Int?
    public var messages: Int?
    public var method: String?
    public var path: String?
    public var body: JSONValue?
    public var raw: String?
    public var auth: String?
    public var expect: Int?
    public var fields: [String]?
    public var error: Bool?
}

extension JSONValue {
    /// This value with `fill` applied to every string in it (a request body's templates).
    func fillingStrings(_ fill: (String) throws -> String) rethrows -> JSONValue {
        switch self {
        case .string(let value): .string(try fill(value))
        case .array(let values): .array(try values.map { try $0.fillingStrings(fill) })
        case .object(let members): .object(try members.map { ($0.0, try $0.1.fillingStrings(fill)) })
        default: self
        }
    }
}
