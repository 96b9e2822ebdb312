/// A map in a scenario file whose keys are all known: a misspelled optional field would otherwise
/// be ignored without a word, and the step would run with its default.
protocol StrictFields {
    associatedtype CodingKeys: CodingKey & CaseIterable
}

extension StrictFields {
    /// The field names, in declaration order, for error messages.
    static var fieldNames: [String] {
        CodingKeys.allCases.map(\.stringValue)
    }

    /// Throws when the map being decoded has a key that is not one of `CodingKeys`.
    static func rejectUnknownFields(in decoder: any Decoder, of what: String) throws {
        let container = try decoder.container(keyedBy: AnyFieldKey.self)
        for key in container.allKeys where CodingKeys(stringValue: key.stringValue) == nil {
            throw DecodingError.dataCorruptedError(
                forKey: key, in: container,
                debugDescription: "unknown field '\(key.stringValue)' (\(what) has \(fieldNames.isEmpty ? "no fields" : fieldNames.joined(separator: ", ")))"
            )
        }
    }
}

/// A step kind's fields, decoded strictly.
protocol StepFields: StrictFields, Decodable, Sendable {}

/// Decodes `Fields` after refusing any key it does not know.
struct Strict<Fields: StepFields>: Decodable {
    let fields: Fields

    init(from decoder: any Decoder) throws {
        // The last key of the path is the step's kind (`accept` and `decline` share their fields).
        try Fields.rejectUnknownFields(in: decoder, of: decoder.codingPath.last?.stringValue ?? "the step")
        fields = try Fields(from: decoder)
    }
}

/// Any key of a map, to list them all.
struct AnyFieldKey: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }

    init(stringValue: String) {
        self.stringValue = stringValue
    }

    init?(intValue: Int) {
        nil
    }
}

/// A decoding error of a scenario file, said with the place in the file's terms: `step 4
/// (invite)`, `actor 2`, and the field.
struct ScenarioFormatError: CustomStringConvertible {
    let description: String

    init(_ error: DecodingError) {
        let (path, problem): ([any CodingKey], String) =
            switch error {
            case .keyNotFound(let key, let context): (context.codingPath, "missing field '\(key.stringValue)'")
            case .typeMismatch(let type, let context): (context.codingPath, "\(Self.field(context.codingPath)) should be \(Self.name(type))")
            case .valueNotFound(let type, let context): (context.codingPath, "\(Self.field(context.codingPath)) should be \(Self.name(type)), not empty")
            case .dataCorrupted(let context): (context.codingPath, context.debugDescription)
            @unknown default: ([], "\(error)")
            }
        description = "\(Self.place(path)): \(problem)"
    }

    /// `step 4 (invite)`, `actor 2` or `the scenario`, from the path of the failing value.
    private static func place(_ path: [any CodingKey]) -> String {
        guard path.count >= 2, let index = path[1].intValue else { return "the scenario" }
        switch path[0].stringValue {
        case "steps": return "step \(index + 1)" + (path.count >= 3 ? " (\(path[2].stringValue))" : "")
        case "actors": return "actor \(index + 1)"
        default: return "the scenario"
        }
    }

    /// `field 'count'` (or `field 'actors[2]'`), from the path of the failing value.
    private static func field(_ path: [any CodingKey]) -> String {
        let inside = path.starts(with: ["steps"], by: { $0.stringValue == $1 }) ? path.dropFirst(3) : path.dropFirst(path.count > 1 ? 2 : 0)
        guard let first = inside.first else { return "the value" }
        let name = inside.dropFirst().reduce(first.stringValue) { name, key in
            name + (key.intValue.map { index in "[\(index)]" } ?? ".\(key.stringValue)")
        }
        return "field '\(name)'"
    }

    private static func name(_ type: Any.Type) -> String {
        // The YAML decoder names its own node types when a list or map was expected.
        let name = String(describing: type)
        switch type {
        case is Int.Type: return "an integer"
        case is String.Type: return "a string"
        case is Bool.Type: return "true or false"
        case _ where name.hasPrefix("Array") || name.hasSuffix("Sequence"): return "a list"
        case _ where name.hasPrefix("Dictionary") || name.hasSuffix("Mapping"): return "a map"
        default: return name
        }
    }
}
