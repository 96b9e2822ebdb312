import ChatBackend
import Foundation
import NIOCore
import Testing

/// What a socket does when one side cannot keep up: a client sending faster than the store
/// stores keeps its connection (each message stored, or refused by name), a client reading too
/// slowly is closed with 1008 and is told so, and frames written in bursts arrive whole and in order.
@Suite("Socket back-pressure")
struct SocketBackpressureTests {
    /// A channel layer whose publishing takes `delay`: the store's commit path (which publishes
    /// before it returns) becomes that slow, as under a saturated database.
    struct SlowChannelLayer: ChannelLayer {
        let base: any ChannelLayer
        let delay: Duration

        func publish(_ event: UserSocketEvent) async throws { try await base.publish(event) }

        func publish(chatID: Int64, seq: Int64, frames: MessageFrames) async throws {
            try await Task.sleep(for: delay)
            try await base.publish(chatID: chatID, seq: seq, frames: frames)
        }

        func revoke(_ revocation: TokenRevocation) async throws { try await base.revoke(revocation) }
        func isReachable() async -> Bool { await base.isReachable() }
    }

    static let notStored = "the message was not stored: the server is busy; send it again later"

    @Test("a client sending faster than the store stores keeps its socket: each message is echoed or refused as not stored")
    func senderFasterThanStore() async throws {
        try await TestServer.run(configure: {
            $0.rateLimits = .off
            // Pings every 3 s: a pong stuck behind the backlog (50 s of it) for longer would close
            // the socket, as it did before the reader stopped waiting for the store. (At 1 s, the
            // test client's own pong came too late when the whole suite shared two cores.)
            $0.connections.socketPingInterval = .seconds(3)
            $0.connections.socketPendingCommands = 4
            $0.wrapChannelLayer = { SlowChannelLayer(base: $0, delay: .milliseconds(100)) }
        }) { server in
            let alice = try await server.register("alice")
            let chat = try await server.befriend(alice, try await server.register("bob"))
            let socket = try await TestSocket.connect(port: server.port, chat: chat, token: alice.token)
            // 500 messages over 5 s, at 100 a second: ten times what the store takes.
            for round in 0..<50 {
                for n in 0..<10 { socket.send(["command": "new_message", "message": .string("m\(round * 10 + n)")]) }
                try await Task.sleep(for: .milliseconds(100))
            }
            let answered: [JSONValue]
            do {
                answered = try await socket.frames(count: 500, timeout: .seconds(30))
            } catch {
                let close = socket.isClosed ? try await socket.closedByServer() : nil
                throw TestFailure("\(socket.all.count) of 500 answers; closed: \(socket.isClosed) \(String(describing: close))")
            }
            let echoed = answered.filter { $0["command"] == "new_message" }.compactMap { $0["message"]?["content"]?.stringValue }
            let refused = answered.filter { $0["command"] == "error" }
            #expect(!socket.isClosed, "the connection is still open")
            #expect(echoed.count + refused.count == 500, "every message answered once")
            // Each refusal names its message, and together with the echoes they are every message.
            let refusedTexts = refused.compactMap { $0["message"]?.stringValue }
            #expect(Set(echoed + refusedTexts) == Set((0..<500).map { "m\($0)" }), "each refusal says which message it was")
            #expect(refused.allSatisfy { $0["error"]?.stringValue == Self.notStored }, "\(refused.prefix(3))")
            #expect(echoed.count >= 4 && !refused.isEmpty, "some stored, some refused: \(echoed.count) stored")
            let indexes = echoed.compactMap { Int($0.dropFirst()) }
            #expect(indexes == indexes.sorted(), "stored in the order sent")
            // Still a working socket: the history holds exactly what was echoed.
            let history = try await socket.fetch()
            #expect(history["messages"]?.arrayValue?.first?["content"]?.stringValue == echoed.last)
            await socket.close()
        }
    }

    @Test("a client that stops reading is closed with 1008, and the close frame reaches it")
    func readerTooSlow() async throws {
        let recorder = LogRecorder()
        try await TestServer.run(configure: {
            $0.rateLimits = .off
            $0.logHandler = recorder.factory
            $0.logLevel = .debug
            // Room for a burst of 8 to the sender, who reads; none for a reader who never does.
            $0.connections.socketOutboundQueue = 32
            $0.connections.socketCloseTimeout = .seconds(20)
        }) { server in
            let alice = try await server.register("alice")
            let bob = try await server.register("bob")
            let chat = try await server.befriend(alice, bob)
            let reader = try await RawConnection.open(port: server.port)
            try await reader.send(RawHTTP.upgradeRequest("/ws/chat/\(chat)/", token: alice.token))
            #expect(try await reader.readResponse()?.status == 101)
            // Nothing read from here on while bob fills alice's socket with messages of 4,000
            // characters, until the server gives up on her (the kernel's buffers take megabytes first).
            let sender = try await TestSocket.connect(port: server.port, chat: chat, token: bob.token)
            let text = String(repeating: "x", count: 4000)
            var cutOff = false
            for batch in 0..<600 where !cutOff {
                for _ in 0..<8 { sender.send(["command": "new_message", "message": .string(text)]) }
                do {
                    _ = try await sender.frames(count: (batch + 1) * 8, timeout: .seconds(20))
                } catch {
                    let close = sender.isClosed ? try await sender.closedByServer() : nil
                    let closing = recorder.records.filter { $0.message == "closing a socket" }.map(\.metadata)
                    throw TestFailure("sender: \(sender.all.count) of \((batch + 1) * 8); closed: \(sender.isClosed) \(String(describing: close)); server closings: \(closing)")
                }
                cutOff = recorder.records.contains { $0.message == "closing a socket" }
            }
            #expect(cutOff, "the server cut the reader off")
            #expect(!sender.isClosed, "the sender is not held up by the slow reader")
            // Now read: the frames that made it, then the close frame, 1008 with its reason.
            var close: RawFrame?
            while let frame = try await reader.readFrame(timeout: .seconds(10)) {
                if frame.opcode == 0x8 {
                    close = frame
                    break
                }
                #expect(frame.opcode == 0x1 || frame.opcode == 0x9)
            }
            let closeFrame = try #require(close, "a close frame before the connection ended")
            #expect(Array(closeFrame.payload.prefix(2)) == [0x03, 0xF0], "1008")
            #expect(String(decoding: closeFrame.payload.dropFirst(2), as: UTF8.self).contains("read faster"))
            await reader.close()
            await sender.close()
        }
    }

    @Test("a burst of broadcasts, written in batches, reaches every socket whole and in order")
    func burstsInOrder() async throws {
        try await TestServer.run(configure: { $0.rateLimits = .off }) { server in
            let (_, _, _, aliceSocket, bobSocket) = try await server.friendsOnSockets()
            _ = try await bobSocket.fetch()
            let bobBefore = bobSocket.all.count
            let aliceBefore = aliceSocket.all.count
            let sent = (0..<60).map { "burst-\($0)" }
            for text in sent { aliceSocket.send(["command": "new_message", "message": .string(text)]) }
            for (socket, before) in [(aliceSocket, aliceBefore), (bobSocket, bobBefore)] {
                let frames = try await socket.frames(count: before + 60, timeout: .seconds(20)).dropFirst(before)
                #expect(frames.compactMap { $0["message"]?["content"]?.stringValue } == sent)
            }
            await aliceSocket.close()
            await bobSocket.close()
        }
    }
}
