import Testing

@testable import ChatBackend

@Suite("Socket frames")
struct SocketProtocolTests {
    @Test("the two commands parse")
    func commands() throws {
        #expect(try ClientCommand.parse(#"{"command":"fetch_messages","last_message_time_stamp":"0"}"#).get() == .fetchMessages(nil))
        #expect(try ClientCommand.parse(#"{"command":"new_message","message":"hi"}"#).get() == .newMessage("hi"))
        let cursor = try ClientCommand.parse(
            #"{"command":"fetch_messages","last_message_time_stamp":"2020-08-06 19:46:06.123456+00:00","last_message_id":7}"#
        ).get()
        #expect(cursor == .fetchMessages(HistoryCursor(timeStamp: Timestamp(microseconds: 1_596_743_166_123_456), messageID: 7)))
    }

    @Test("before_seq is a cursor of its own, and wins over a time stamp sent beside it")
    func seqCursor() throws {
        #expect(try ClientCommand.parse(#"{"command":"fetch_messages","before_seq":16}"#).get() == .fetchMessages(.seq(16)))
        let both = try ClientCommand.parse(#"{"command":"fetch_messages","last_message_time_stamp":"0","before_seq":3}"#).get()
        #expect(both == .fetchMessages(.seq(3)))
        let nullSeq = try ClientCommand.parse(#"{"command":"fetch_messages","last_message_time_stamp":"0","before_seq":null}"#).get()
        #expect(nullSeq == .fetchMessages(nil))
    }

    @Test(
        "every malformed frame gets a reason",
        arguments: [
            ("this is not json", "frame is not valid JSON"),
            ("[1,2,3]", "frame must be a JSON object"),
            (#"{"message":"x"}"#, "missing field 'command'"),
            (#"{"command":5}"#, "field 'command' must be a string"),
            (#"{"command":"delete_everything"}"#, "unknown command 'delete_everything'"),
            (#"{"command":"new_message"}"#, "missing field 'message'"),
            (#"{"command":"new_message","message":123}"#, "field 'message' must be a string"),
            (#"{"command":"new_message","message":{"a":1}}"#, "field 'message' must be a string"),
            (#"{"command":"new_message","message":"  "}"#, "field 'message' must not be empty"),
            (#"{"command":"fetch_messages"}"#, "missing field 'last_message_time_stamp'"),
            (#"{"command":"fetch_messages","last_message_time_stamp":0}"#, "field 'last_message_time_stamp' must be a string: \"0\" or a date-time"),
            (#"{"command":"fetch_messages","last_message_time_stamp":"yesterday"}"#, "field 'last_message_time_stamp' must be \"0\" or an ISO 8601 date-time"),
            (#"{"command":"fetch_messages","before_seq":"3"}"#, "field 'before_seq' must be a positive integer"),
            (#"{"command":"fetch_messages","before_seq":0}"#, "field 'before_seq' must be a positive integer"),
            (#"{"command":"fetch_messages","before_seq":2.5}"#, "field 'before_seq' must be a positive integer"),
        ]
    )
    func malformed(frame: String, reason: String) {
        #expect(throws: SocketFrameError(reason)) { try ClientCommand.parse(frame).get() }
    }

    @Test("an oversized message is refused")
    func oversized() {
        let frame = JSONValue.object([("command", "new_message"), ("message", .string(String(repeating: "x", count: Limits.messageCharacters + 1)))])
        #expect(throws: SocketFrameError.self) { try ClientCommand.parse(frame.serialized).get() }
    }

    @Test("a page marks the end of history as the original")
    func pageMarkers() throws {
        let message = Message(id: 3, chatID: 1, seq: 5, authorID: 2, content: "hi", timeStamp: Timestamp(microseconds: 0))
        let partial = try JSONValue.parse(Array(ServerFrame.history([message], requested: nil, pageSize: 15).utf8))
        #expect(partial["error"] == "LAST PACKAGE")
        #expect(partial["last_message_time_stamp"] == "1970-01-01 00:00:00.000000+00:00")
        #expect(partial["last_message_id"] == 3)
        #expect(partial["last_message_seq"] == 5)
        #expect(partial["messages"] == [message.json] && message.json["seq"] == 5)
        let empty = try JSONValue.parse(Array(ServerFrame.history([], requested: nil, pageSize: 15).utf8))
        #expect(empty["error"] == "NO MESSAGES")
        #expect(empty["messages"] == [])
        let emptyBeforeSeq = try JSONValue.parse(Array(ServerFrame.history([], requested: .seq(1), pageSize: 15).utf8))
        #expect(emptyBeforeSeq["error"] == "NO MESSAGES")
        #expect(emptyBeforeSeq["last_message_seq"] == 1)
        #expect(emptyBeforeSeq["last_message_time_stamp"] == "1970-01-01 00:00:00.000000+00:00")
    }
}
