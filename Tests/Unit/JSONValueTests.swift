import ChatSimulator
import Foundation
import Testing

@testable import ChatBackend

@Suite("JSON")
struct JSONValueTests {
    @Test("serialisation keeps nulls, order and escapes")
    func serialise() {
        let value: JSONValue = ["a": nil, "b": [1, true, "x\"\n\u{01}"], "c": .double(1.5)]
        #expect(value.serialized == #"{"a":null,"b":[1,true,"x\"\n\u0001"],"c":1.5}"#)
    }

    @Test("parsing reads what serialisation wrote")
    func roundTrip() throws {
        let value: JSONValue = ["name": "ünïcode ✓", "n": 42, "list": [nil, false]]
        #expect(try JSONValue.parse(Array(value.serialized.utf8)) == value)
    }
}

@Suite("JSON parser")
struct JSONParserTests {
    private static func parse(_ text: String) throws -> JSONValue {
        try JSONValue.parse(Array(text.utf8))
    }

    @Test("numbers: integers stay integers, the rest are doubles")
    func numbers() throws {
        #expect(try Self.parse("0") == .int(0))
        #expect(try Self.parse("-12") == .int(-12))
        #expect(try Self.parse("9223372036854775807") == .int(.max))
        #expect(try Self.parse("9223372036854775808") == .double(9_223_372_036_854_775_808))
        #expect(try Self.parse("-9223372036854775809") == .double(-9_223_372_036_854_775_808), "digits that overflow are not an integer")
        #expect(try Self.parse("1.5e3") == .int(1500), "a whole number, however written, as Foundation reads it")
        #expect(try Self.parse(" [1, -0.25, 2E-2] ") == [1, .double(-0.25), .double(0.02)])
    }

    @Test("strings: escapes, surrogate pairs and UTF-8 as written")
    func strings() throws {
        #expect(try Self.parse(#""a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00ü""#) == .string("a\"\\/\u{08}\u{0C}\n\r\t\u{e9}😀ü"))
        #expect(try Self.parse(#"{"k": "v", "k": "last"}"#)["k"] == "last", "a repeated name keeps its last value")
    }

    @Test("what is not JSON is refused", arguments: [
        "", "{", "[1,]", "{\"a\":}", "01", "1.", "-", "1e", "tru", "nul", "\"a", "\"\\x\"", "\"\\u12\"",
        "\"\\ud83d\"", "\"\\ude00\"", "\"a\u{01}b\"", "[1] 2", "{\"a\" 1}", "{1: 2}", "NaN", "1e999",
    ])
    func invalid(text: String) {
        #expect(throws: JSONParser.SyntaxError.self) { try Self.parse(text) }
    }

    @Test("bytes that are not UTF-8 inside a string are refused")
    func invalidUTF8() {
        #expect(throws: JSONParser.SyntaxError.self) { try JSONValue.parse([0x22, 0xC3, 0x28, 0x22]) }
    }

    @Test("nesting is bounded: 512 levels parse, 513 are refused, 60,000 do not crash")
    func depth() throws {
        _ = try Self.parse(String(repeating: "[", count: 512) + String(repeating: "]", count: 512))
        #expect(throws: JSONParser.SyntaxError.self) { try Self.parse(String(repeating: "[", count: 513) + String(repeating: "]", count: 513)) }
        #expect(throws: JSONParser.SyntaxError.self) { try Self.parse(String(repeating: "[", count: 60_000)) }
    }

    @Test("an object of 20,000 members, all named alike or all different, parses")
    func wideObjects() throws {
        let same = "{" + (0..<20_000).map { _ in #""k": 1"# }.joined(separator: ",") + "}"
        #expect(try Self.parse(same) == ["k": 1])
        let different = "{" + (0..<20_000).map { #""k\#($0)": \#($0)"# }.joined(separator: ",") + "}"
        #expect(try Self.parse(different)["k19999"] == 19_999)
    }

    @Test("random documents read back as Foundation's decoder reads them", arguments: [UInt64(20_261_202), UInt64.random(in: 1...UInt64.max)])
    func agreesWithFoundation(seed: UInt64) throws {
        var random = SeededRandom(seed: seed)
        for _ in 0..<300 {
            let value = Self.randomValue(depth: 0, using: &random)
            let text = value.serialized
            let ours = try JSONValue.parse(Array(text.utf8))
            let foundations = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
            #expect(ours == foundations, "seed \(seed): \(text)")
            #expect(ours == value, "seed \(seed): \(text)")
        }
    }

    private static func randomValue(depth: Int, using random: inout SeededRandom) -> JSONValue {
        switch Int.random(in: 0..<(depth > 3 ? 5 : 7), using: &random) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &random))
        case 2: return .int(Int64.random(in: Int64.min...Int64.max, using: &random))
        // Never a whole number: those read back as integers, as Foundation reads them.
        case 3: return .double(Double(2 * Int.random(in: -1_000_000...1_000_000, using: &random) + 1) / 64)
        case 4:
            let scalars = (0..<Int.random(in: 0..<12, using: &random)).map { _ in
                Unicode.Scalar(UInt32.random(in: 1...0x2FFF, using: &random)) ?? "x"
            }
            return .string(String(String.UnicodeScalarView(scalars)))
        case 5: return .array((0..<Int.random(in: 0..<4, using: &random)).map { _ in randomValue(depth: depth + 1, using: &random) })
        default:
            return .object((0..<Int.random(in: 0..<4, using: &random)).map { index in ("k\(index)", randomValue(depth: depth + 1, using: &random)) })
        }
    }
}
