import ChatBackend
import ChatSimulator
import Foundation
import Testing

@Suite("Chat socket fuzzing")
struct SocketFuzzTests {
    /// The runs' seeds: three fixed, and a new one each run; `SOCKET_FUZZ_SEED=<seed>` replays the
    /// one a failure names.
    static let seeds: [UInt64] = ProcessInfo.processInfo.environment["SOCKET_FUZZ_SEED"].flatMap(UInt64.init).map { [$0] }
        ?? [20_200_806, 1_596_743_166, 4_096, UInt64.random(in: 1...UInt64(UInt32.max))]

    @Test("hostile frames from one participant each get an error frame, reach nobody else, and leave the chat working", arguments: seeds)
    func hostileFrames(seed: UInt64) async throws {
        try await TestServer.run { server in
            let (alice, _, _, sender, observer) = try await server.friendsOnSockets()
            // Each socket is registered with the chat once it has answered a command.
            #expect(try await sender.fetch()["error"] == "NO MESSAGES")
            #expect(try await observer.fetch()["error"] == "NO MESSAGES")

            var generator = SeededRandom(seed: seed)
            let frames = HostileFrames.make(count: 160, using: &generator)
            for frame in frames {
                switch frame.payload {
                case .text(let text): sender.send(text)
                case .binary(let bytes): sender.sendBinary(bytes)
                }
            }
            let answers = Array(try await sender.frames(count: 1 + frames.count, timeout: .seconds(60)).dropFirst())
            for (frame, answer) in zip(frames, answers) {
                let isError = answer["command"] == "error" && answer["error"]?.stringValue?.isEmpty == false
                #expect(isError, "seed \(seed): \(frame) was answered \(answer.serialized)")
            }

            // Nothing else arrives: no broadcast to anyone, no second answer to the sender.
            try await Task.sleep(for: .milliseconds(200))
            #expect(sender.all.count == 1 + frames.count, "seed \(seed): the sender got more than one answer per frame")
            #expect(observer.all.count == 1, "seed \(seed): the other participant heard of the bad frames: \(observer.all.dropFirst())")

            // Both still talk to each other, and only what they meant to say was stored.
            observer.send(["command": "new_message", "message": "bob is still here"])
            #expect(try await sender.next(after: 1 + frames.count)["message"]?["content"] == "bob is still here")
            #expect(try await observer.next(after: 1)["message"]?["content"] == "bob is still here")
            sender.send(["command": "new_message", "message": "alice too"])
            #expect(try await observer.next(after: 2)["message"]?["content"] == "alice too")
            let history = try await observer.fetch()
            let contents = (history["messages"]?.arrayValue ?? []).compactMap { $0["content"]?.stringValue }
            #expect(contents == ["alice too", "bob is still here"], "seed \(seed)")
            #expect(try await server.get("/api/user/currentuser/", token: alice.token).status == .ok)
            await sender.close()
            await observer.close()
        }
    }

    @Test("a frame over 64 KiB closes only its own socket, with 1009; the others carry on")
    func oversizedFrames() async throws {
        try await TestServer.run { server in
            let (alice, _, chat, sender, observer) = try await server.friendsOnSockets()
            _ = try await observer.fetch()
            _ = try await sender.fetch()

            let over = Limits.socketFrameBytes + 1
            let oversized: [(String, (TestSocket) -> Void)] = [
                ("a text frame of \(over) bytes", { $0.send(String(repeating: "x", count: over)) }),
                ("a JSON command of \(over) bytes", { $0.send(HostileFrames.newMessage(totalBytes: over)) }),
                ("a binary frame of \(over) bytes", { $0.sendBinary([UInt8](repeating: 0x7B, count: over)) }),
                ("a text frame of \(4 * Limits.socketFrameBytes) bytes", { $0.send(String(repeating: "y", count: 4 * Limits.socketFrameBytes)) }),
            ]
            for (what, send) in oversized {
                let abuser = try await TestSocket.connect(port: server.port, chat: chat, token: alice.token)
                send(abuser)
                let close = try await abuser.closedByServer()
                #expect(close?.closeCode == .messageTooLarge, "\(what): \(String(describing: close))")
                #expect(abuser.all.isEmpty, "\(what) was answered instead of closing the socket")
            }

            #expect(observer.all.count == 1, "the other participant heard of the oversized frames")
            sender.send(["command": "new_message", "message": "still open"])
            #expect(try await observer.next(after: 1)["message"]?["content"] == "still open")
            #expect(try await sender.next(after: 1)["message"]?["content"] == "still open")
            observer.send(["command": "new_message", "message": "and back"])
            #expect(try await sender.next(after: 2)["message"]?["content"] == "and back")
            await sender.close()
            await observer.close()
        }
    }
}

/// A frame a client should never send, with what makes it bad, for the failure message.
struct HostileFrame: CustomStringConvertible {
    enum Payload {
        case text(String)
        case binary([UInt8])
    }

    /// What is wrong with it.
    let kind: String
    /// What is sent.
    let payload: Payload

    var description: String {
        switch payload {
        case .text(let text):
            let preview = text.count > 80 ? String(text.prefix(80)) + "…" : text
            return "\(kind) (text, \(text.utf8.count) bytes: \(preview.debugDescription))"
        case .binary(let bytes):
            return "\(kind) (binary, \(bytes.count) bytes)"
        }
    }
}

/// Frames that are each wrong in one way the server must answer with an error frame: every kind
/// comes round in turn, with random content from a seeded generator so a failure replays.
enum HostileFrames {
    /// `count` frames: the size-limit ones, then every kind in turn.
    static func make(count: Int, using generator: inout SeededRandom) -> [HostileFrame] {
        let kinds: [(inout SeededRandom) -> HostileFrame] = [
            randomBytesAsText, randomCharacters, truncatedCommand, notAnObject, wrongTypes, unknownCommand,
            extraFieldsOnABadCommand, deepNesting, hugeNumbers, badTimeStamps, blankOrLongMessage, binaryFrame,
            duplicateKeys,
        ]
        var frames = sizeLimitFrames()
        for index in 0..<max(0, count - frames.count) {
            frames.append(kinds[index % kinds.count](&generator))
        }
        return frames
    }

    /// Frames at and just under the 64 KiB frame limit: accepted as frames, refused as commands.
    static func sizeLimitFrames() -> [HostileFrame] {
        let limit = Limits.socketFrameBytes
        return [
            HostileFrame(kind: "a new_message of exactly the frame limit", payload: .text(newMessage(totalBytes: limit))),
            HostileFrame(kind: "a new_message just under the frame limit", payload: .text(newMessage(totalBytes: limit - 1))),
            HostileFrame(kind: "text of exactly the frame limit", payload: .text(String(repeating: "z", count: limit))),
            HostileFrame(kind: "a binary frame of exactly the frame limit", payload: .binary([UInt8](repeating: 0x5B, count: limit))),
        ]
    }

    /// `{"command":"new_message","message":"xxx…"}` of exactly `totalBytes` bytes, its message far
    /// over the 4096-character limit.
    static func newMessage(totalBytes: Int) -> String {
        let prefix = #"{"command":"new_message","message":""#
        let suffix = #""}"#
        return prefix + String(repeating: "x", count: totalBytes - prefix.utf8.count - suffix.utf8.count) + suffix
    }

    /// A text frame.
    private static func text(_ kind: String, _ text: String) -> HostileFrame {
        HostileFrame(kind: kind, payload: .text(text))
    }

    /// Random bytes, as text (invalid UTF-8 turned into replacement characters).
    static func randomBytesAsText(_ generator: inout SeededRandom) -> HostileFrame {
        let bytes = (0..<Int.random(in: 0...200, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return text("random bytes", String(decoding: bytes, as: UTF8.self))
    }

    /// Random Unicode characters.
    static func randomCharacters(_ generator: inout SeededRandom) -> HostileFrame {
        var scalars = String.UnicodeScalarView()
        for _ in 0..<Int.random(in: 1...120, using: &generator) {
            // Anywhere in Unicode but the surrogates, which no string can hold.
            let value = UInt32.random(in: 0...0x10FFFF, using: &generator)
            scalars.append(Unicode.Scalar(value) ?? "\u{FFFD}")
        }
        return text("random characters", String(scalars))
    }

    /// A valid command cut short.
    static func truncatedCommand(_ generator: inout SeededRandom) -> HostileFrame {
        let commands: [JSONValue] = [
            ["command": "new_message", "message": .string(randomWords(&generator))],
            ["command": "fetch_messages", "last_message_time_stamp": "0"],
            ["command": "fetch_messages", "last_message_time_stamp": "2020-08-06 19:46:06.123456+00:00", "last_message_id": 42],
        ]
        let whole = commands.randomElement(using: &generator)!.serialized
        // Any strict prefix of a JSON object leaves it unclosed.
        return text("a truncated command", String(whole.prefix(Int.random(in: 1..<whole.count, using: &generator))))
    }

    /// JSON, or nothing, that is not a command object.
    static func notAnObject(_ generator: inout SeededRandom) -> HostileFrame {
        let values = ["[]", #"[{"command":"new_message","message":"hi"}]"#, #""new_message""#, "42", "-1.5e3", "true", "null", #"{}"#, ""]
        return text("JSON that is not a command object", values.randomElement(using: &generator)!)
    }

    /// A command with one field of the wrong type.
    static func wrongTypes(_ generator: inout SeededRandom) -> HostileFrame {
        let notAString: [JSONValue] = [1, true, .null, [], ["x": 1], .double(1.5), ["new_message"]]
        // An integer or null is a valid `last_message_id`.
        let notAnInteger: [JSONValue] = ["7", true, [], ["x": 1], .double(1.5)]
        let frames: [JSONValue] = [
            ["command": notAString.randomElement(using: &generator)!],
            ["command": "new_message", "message": notAString.randomElement(using: &generator)!],
            ["command": "fetch_messages", "last_message_time_stamp": notAString.randomElement(using: &generator)!],
            ["command": "fetch_messages", "last_message_time_stamp": "0", "last_message_id": notAnInteger.randomElement(using: &generator)!],
        ]
        return text("a field of the wrong type", frames.randomElement(using: &generator)!.serialized)
    }

    /// A command the server does not know, some of them close to the known ones.
    static func unknownCommand(_ generator: inout SeededRandom) -> HostileFrame {
        let known = ["new_message", "fetch_messages"]
        var command = ["NEW_MESSAGE", "new_message ", " fetch_messages", "delete_everything", "", "error", randomWords(&generator)]
            .randomElement(using: &generator)!
        if known.contains(command) { command += "!" }
        return text("an unknown command", JSONValue.object([("command", .string(command)), ("message", "hi")]).serialized)
    }

    /// Unknown fields are ignored by design (as DRF ignores them), so each of these frames also
    /// lacks or mistypes a field the command needs.
    static func extraFieldsOnABadCommand(_ generator: inout SeededRandom) -> HostileFrame {
        let command = ["new_message", "fetch_messages"].randomElement(using: &generator)!
        var members: [(String, JSONValue)] = [("command", .string(command))]
        for index in 0..<Int.random(in: 1...20, using: &generator) {
            members.append(("extra_\(index)_\(randomWords(&generator))", .string(randomWords(&generator))))
        }
        members.append(("message", 12))
        members.append(("last_message_time_stamp", false))
        return text("extra fields around missing or mistyped ones", JSONValue.object(members).serialized)
    }

    /// A message nested thousands of arrays or objects deep.
    static func deepNesting(_ generator: inout SeededRandom) -> HostileFrame {
        // As deep as fits in one frame under the limit: 30 000 arrays, or 10 000 objects.
        let arrays = Bool.random(using: &generator)
        let depth = Int.random(in: 100...(arrays ? 30_000 : 10_000), using: &generator)
        let (open, close) = arrays ? ("[", "]") : (#"{"a":"#, "}")
        let nested = String(repeating: open, count: depth) + "0" + String(repeating: close, count: depth)
        return text("nesting \(depth) deep", #"{"command":"new_message","message":"# + nested + "}")
    }

    /// Numbers no 64-bit integer or double holds, where a string or an id is expected.
    static func hugeNumbers(_ generator: inout SeededRandom) -> HostileFrame {
        // Beyond a 64-bit integer, or beyond a double.
        let huge = ["1e400", "-1e400", "123456789012345678901234567890", "9223372036854775808", "-9223372036854775809"]
        // Where a string is expected, tiny numbers are as wrong. (As a message id, the JSON decoder
        // reads 1e-400 as the integer 0, a harmless id: not a frame this test calls bad.)
        let any = huge + ["1e-400", "0.000000000000000000000000001"]
        let frames = [
            #"{"command":"fetch_messages","last_message_time_stamp":"0","last_message_id":"# + huge.randomElement(using: &generator)! + "}",
            #"{"command":"new_message","message":"# + any.randomElement(using: &generator)! + "}",
            #"{"command":"# + any.randomElement(using: &generator)! + #","message":"hi"}"#,
            #"{"command":"fetch_messages","last_message_time_stamp":"# + any.randomElement(using: &generator)! + "}",
        ]
        return text("a huge number", frames.randomElement(using: &generator)!)
    }

    /// A history cursor that is neither "0" nor a date-time.
    static func badTimeStamps(_ generator: inout SeededRandom) -> HostileFrame {
        let stamps = [
            "", "yesterday", "00", "0 ", "2020-13-01 00:00:00", "2020-08-06 25:00:00", "2020-08-06T19:46:06.1234567890Z",
            "99999-01-01 00:00:00", String(repeating: "2", count: 65), "2020-08-06 19:46:06+0", "\u{0}",
        ]
        let frame: JSONValue = ["command": "fetch_messages", "last_message_time_stamp": .string(stamps.randomElement(using: &generator)!)]
        return text("a malformed time stamp", frame.serialized)
    }

    /// A message of white space only, or over 4096 characters.
    static func blankOrLongMessage(_ generator: inout SeededRandom) -> HostileFrame {
        let tooLong = Limits.messageCharacters + Int.random(in: 1...100, using: &generator)
        let messages = ["", " ", "\n\t \r", "\u{3000}\u{00A0}", String(repeating: "é", count: tooLong), String(repeating: "🙂", count: tooLong)]
        return text("a blank or over-long message", (["command": "new_message", "message": .string(messages.randomElement(using: &generator)!)] as JSONValue).serialized)
    }

    /// A binary frame: random bytes, or a valid command sent as binary.
    static func binaryFrame(_ generator: inout SeededRandom) -> HostileFrame {
        let command = Array(#"{"command":"new_message","message":"sent as binary"}"#.utf8)
        let random = (0..<Int.random(in: 0...512, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return HostileFrame(kind: "a binary frame", payload: .binary(Bool.random(using: &generator) ? command : random))
    }

    /// A command object with a key twice.
    static func duplicateKeys(_ generator: inout SeededRandom) -> HostileFrame {
        // Whichever duplicate a parser keeps, the command is still wrong.
        let frames = [
            #"{"command":"new_message","message":5,"message":[]}"#,
            #"{"command":"fetch_messages","command":"fetch_messages","last_message_time_stamp":null}"#,
            #"{"command":1,"command":"delete"}"#,
        ]
        return text("duplicate keys", frames.randomElement(using: &generator)!)
    }

    /// A few words, some with characters JSON must escape.
    private static func randomWords(_ generator: inout SeededRandom) -> String {
        let words = ["hi", "ünïcödé", "日本語", "🙂", "\"quoted\"", "back\\slash", "new\nline", "tab\t", "<script>", "%00", "DROP TABLE"]
        return (0..<Int.random(in: 1...4, using: &generator)).map { _ in words.randomElement(using: &generator)! }.joined(separator: " ")
    }
}
