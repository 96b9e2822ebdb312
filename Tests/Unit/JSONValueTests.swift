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
