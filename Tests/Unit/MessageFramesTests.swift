import ChatSimulator
import Foundation
import Testing

@testable import ChatBackend

@Suite("Message frames")
struct MessageFramesTests {
    /// A message with text that needs escaping, and any of a client id, an edit and a tombstone.
    private static func message(_ random: inout SeededRandom) -> Message {
        let pieces = ["hi", "\"quoted\"", "back\\slash", "new\nline", "tab\t", "ünïcødé 😀", "</script>", "{\"json\":1}", " "]
        let content = (0..<Int.random(in: 1...6, using: &random)).map { _ in pieces.randomElement(using: &random)! }.joined()
        var message = Message(
            id: Int64.random(in: 1...1_000_000, using: &random), chatID: 7, seq: Int64.random(in: 1...100_000, using: &random),
            authorID: Int64.random(in: 1...1000, using: &random), content: content,
            timeStamp: Timestamp(microseconds: Int64.random(in: 0...2_000_000_000_000_000, using: &random))
        )
        if Bool.random(using: &random) { message.clientID = "c-" + pieces.randomElement(using: &random)! }
        if Bool.random(using: &random) { message.editedAt = Timestamp(microseconds: 1_700_000_000_000_000) }
        if Bool.random(using: &random) { message.deleted = true }
        return message
    }

    @Test(
        "the user frame derived from the chat frame is the one UserFrame.message builds, and the channel-layer form carries both",
        arguments: [20_261_202, UInt64.random(in: 1...UInt64.max)]
    )
    func userFrameAndEncoding(seed: UInt64) throws {
        var random = SeededRandom(seed: seed)
        for _ in 0..<200 {
            let message = Self.message(&random)
            let (chat, author) = (UUID(), UUID())
            let frames = MessageFrames(message, chatUUID: chat, authorUUID: author)
            let expected = try JSONValue.parse(Array(UserFrame.message(message, chat: chat, author: author).utf8))
            #expect(try JSONValue.parse(Array(frames.user.utf8)) == expected, "seed \(seed): \(frames.user)")
            #expect(try JSONValue.parse(Array(frames.chat.utf8)) == JSONValue.parse(Array(ServerFrame.newMessage(message).utf8)))
            let decoded = try #require(MessageFrames(encoded: frames.encoded), "seed \(seed)")
            #expect(decoded == frames, "seed \(seed)")
            #expect(decoded.user == frames.user)
        }
    }

    @Test("frames given whole cross the channel layer whole, and so does the older form that carried both frames")
    func givenWhole() throws {
        let chat = #"{"command":"new_message","message":{"id":1}}"#
        for user in [#"{"command":"pong"}"#, #"{"command":"message","chat":"x","message":{"id":1}}"#] {
            let frames = MessageFrames(chat: chat, user: user)
            let decoded = try #require(MessageFrames(encoded: frames.encoded))
            #expect(decoded == frames)
            #expect(decoded.chat == chat && decoded.user == user)
        }
    }

    @Test("a channel-layer string that is not one is refused, not misread")
    func badEncodings() {
        for bad in ["", "x", "12", "-1 {}", "5 {}", "999 {\"command\":\"new_message\"}"] {
            #expect(MessageFrames(encoded: bad) == nil, "\(bad)")
        }
    }

    @Test("a chat frame of another shape (another release's writer, with spaces) still gives the user frame")
    func otherShape() throws {
        let message = Message(id: 3, chatID: 1, seq: 2, authorID: 4, content: "hi", timeStamp: .now, clientID: "k")
        let (chat, author) = (UUID(), UUID())
        let spaced = #"{"command": "new_message", "message": "# + message.json.serialized + "}"
        let encoded = "\(spaced.utf8.count) \(spaced)\(chat.text)\(author.text)k"
        let frames = try #require(MessageFrames(encoded: encoded))
        #expect(try JSONValue.parse(Array(frames.user.utf8)) == JSONValue.parse(Array(UserFrame.message(message, chat: chat, author: author).utf8)))
    }
}
