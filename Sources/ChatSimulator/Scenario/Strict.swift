/// A map of a scenario file decoded into `Fields`, refusing any key that is not one of its stored
/// properties: a misspelled optional field would otherwise be ignored without a word, and the step
/// would run with its default.
struct Strict<Fields: Decodable>: Decodable {
    let fields: Fields

    init(from decoder: any Decoder) throws {
        fields = try Fields(from: decoder)
        // The synthesized decoding reads one key per stored property, named as the property.
        let known = Mirror(reflecting: fields).children.compactMap(\.label)
        let container = try decoder.container(keyedBy: AnyFieldKey.self)
        for key in container.allKeys where !known.contains(key.stringValue) {
            // The last key of the path names the map: a step's kind, or an actor's index.
            let owner = decoder.codingPath.last.map { $0.intValue == nil ? $0.stringValue : "an actor" } ?? "a scenario"
            throw DecodingError.dataCorruptedError(
                forKey: key, in: container,
                debugDescription: "unknown field '\(key.stringValue)' (\(owner) has \(known.isEmpty ? "no fields" : known.joined(separator: ", ")))"
            )
        }
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
