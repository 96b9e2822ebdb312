@testable import ChatSimulator
import Foundation
import Testing

/// The load profiles committed under `fixtures/load/` are ones `chat-sim load --profile` accepts.
@Suite("Load profile files")
struct LoadProfileFixtureTests {
    static let folder: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../fixtures/load").standardized
    static let files: [String] = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).filter { $0.hasSuffix(".yaml") }.sorted()

    @Test("the folder holds the benchmark shapes, the 1,000-member group and the hostile run")
    func folder() {
        #expect(Self.files.contains("groups-of-10-500.yaml"))
        #expect(Self.files.contains("groups-of-10-10000.yaml"))
        #expect(Self.files.contains("fan-out-1000.yaml"))
        #expect(Self.files.contains("hostile.yaml"))
    }

    @Test("every profile file loads and validates", arguments: files)
    func validates(file: String) throws {
        let profile = try LoadProfile.load(path: Self.folder.appendingPathComponent(file).path)
        try profile.validate()
        #expect(!profile.sendTimes().isEmpty)
    }

    @Test("the groups-of-10 profiles are the issue's shape at their rate", arguments: [500.0, 1000, 5000, 10000])
    func benchmarkShape(rate: Double) throws {
        let profile = try LoadProfile.load(path: Self.folder.appendingPathComponent("groups-of-10-\(Int(rate)).yaml").path)
        #expect(profile.users == 100 && profile.chats == 10 && profile.groupSize == 10)
        #expect(profile.rate == rate && profile.rampUp == 2 && profile.duration == 15)
    }

    @Test("the user-socket profile puts users on /ws/ and has half of them reconnect; reconnects need user sockets")
    func userSockets() throws {
        var profile = try LoadProfile.load(path: Self.folder.appendingPathComponent("user-sockets-reconnect.yaml").path)
        #expect(profile.socket == .user && profile.reconnectEvery == 3 && profile.reconnectShare == 0.5)
        profile.socket = .chat
        #expect(throws: SimulatorError.self) { try profile.validate() }
        profile.socket = .user
        profile.reconnectShare = 2
        #expect(throws: SimulatorError.self) { try profile.validate() }
    }

    @Test("workers are read from the profile and bounded")
    func workers() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("workers-\(UUID().uuidString).yaml")
        defer { try? FileManager.default.removeItem(at: file) }
        try "workers: 3\n".write(to: file, atomically: true, encoding: .utf8)
        var profile = try LoadProfile.load(path: file.path)
        #expect(profile.workers == 3)
        profile.workers = 0
        #expect(throws: SimulatorError.self) { try profile.validate() }
    }
}
