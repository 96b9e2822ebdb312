import Yams

extension JSONValue {
    /// Reads a YAML document that is meant to be JSON written as YAML, as the OpenAPI document is.
    ///
    /// Stricter than YAML itself, so that every YAML parser reads the text as this JSON: mapping keys
    /// must be strings (an unquoted `200:` is an integer to YAML), keys must not repeat, and the
    /// YAML-only kinds of value (dates, binary, merge keys, aliases, custom tags) are refused rather
    /// than guessed at.
    init(yaml text: String) throws {
        guard let root = try Yams.compose(yaml: text) else { throw YAMLToJSONError("the text holds no YAML document") }
        self = try Self(yamlNode: root, at: "$")
    }

    private init(yamlNode node: Node, at path: String) throws {
        switch node {
        case .scalar(let scalar):
            self = try Self(yamlScalar: scalar, tag: Tag.Name(rawValue: node.tag.rawValue), at: path)
        case .sequence(let sequence):
            self = .array(try sequence.enumerated().map { try Self(yamlNode: $1, at: "\(path)[\($0)]") })
        case .mapping(let mapping):
            var members: [(String, JSONValue)] = []
            var seen = Set<String>()
            for (key, value) in mapping {
                guard case .scalar(let keyScalar) = key, key.tag.rawValue == Tag.Name.str.rawValue else {
                    throw YAMLToJSONError("\(path): the key \(key) is not a string; quote it")
                }
                guard seen.insert(keyScalar.string).inserted else {
                    throw YAMLToJSONError("\(path): the key '\(keyScalar.string)' appears twice")
                }
                members.append((keyScalar.string, try Self(yamlNode: value, at: "\(path).\(keyScalar.string)")))
            }
            self = .object(members)
        case .alias:
            throw YAMLToJSONError("\(path): aliases have no JSON form")
        }
    }

    private init(yamlScalar scalar: Node.Scalar, tag: Tag.Name, at path: String) throws {
        let node = Node.scalar(scalar)
        switch tag {
        case .str:
            self = .string(scalar.string)
        case .null:
            self = .null
        case .bool:
            guard let value = node.bool else { throw YAMLToJSONError("\(path): '\(scalar.string)' is not a boolean") }
            self = .bool(value)
        case .int:
            guard let value = node.int else { throw YAMLToJSONError("\(path): '\(scalar.string)' does not fit a 64-bit integer") }
            self = .int(Int64(value))
        case .float:
            guard let value = node.float, value.isFinite else {
                throw YAMLToJSONError("\(path): '\(scalar.string)' is not a finite number")
            }
            self = .double(value)
        default:
            throw YAMLToJSONError("\(path): '\(scalar.string)' reads as \(tag.rawValue), which JSON has no form for; quote it")
        }
    }
}

/// Why a YAML text has no single JSON reading.
struct YAMLToJSONError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
