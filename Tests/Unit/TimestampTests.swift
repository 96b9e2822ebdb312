import Testing

@testable import ChatBackend

@Suite("Time stamps")
struct TimestampTests {
    @Test("the socket and REST forms are the original's")
    func forms() {
        let stamp = Timestamp(microseconds: 1_596_743_166_123_456)
        #expect(stamp.socketText == "2020-08-06 19:46:06.123456+00:00")
        #expect(stamp.restText == "2020-08-06T19:46:06.123456Z")
    }

    @Test(
        "cursors in any ISO 8601 form parse to the same instant",
        arguments: [
            "2020-08-06 19:46:06.123456+00:00",
            "2020-08-06T19:46:06.123456Z",
            "2020-08-06T21:46:06.123456+02:00",
            "2020-08-06T19:46:06.123456789Z",
            "2020-08-06T17:46:06.123456-0200",
        ]
    )
    func parsing(text: String) {
        #expect(Timestamp(parsing: text)?.microseconds == 1_596_743_166_123_456)
    }

    @Test("a round trip through the socket form is exact, before 1970 too")
    func roundTrip() {
        for micro: Int64 in [0, 1, -1, 951_782_400_000_001, -2_208_988_800_000_000, 4_102_444_799_999_999] {
            #expect(Timestamp(parsing: Timestamp(microseconds: micro).socketText)?.microseconds == micro)
        }
    }

    @Test("garbage is refused", arguments: ["", "0", "yesterday", "2020-13-01T00:00:00Z", "2020-08-06T19:46", "2020-08-06T19:46:06.Z", "2020-08-06T19:46:06Zjunk"])
    func garbage(text: String) {
        #expect(Timestamp(parsing: text) == nil)
    }
}
