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
