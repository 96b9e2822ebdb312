import ChatSimulator
import Foundation
import Testing

/// A scenario file that does not follow the format is refused when it is loaded, with a message
/// naming the file, the step (index and kind) and the field, not half-way through a run.
@Suite("Scenario format")
struct ScenarioFormatTests {
    /// A valid scenario, with `step` as its third step.
    private static func scenario(thirdStep step: String) -> String {
        """
        name: probe
        actors:
          - name: ann
          - name: ben
        steps:
          - invite: {from: ann, to: ben}
          - accept: {actor: ben, from: ann, chat: ab}
          \(step)
        """
    }

    /// Writes `text` as the file `probe.yaml` of a new folder, and calls `body` with it.
    private func withFile<T>(_ text: String, _ body: (URL) throws -> T) throws -> T {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("scenario-format-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("probe.yaml")
        try text.write(to: file, atomically: true, encoding: .utf8)
        return try body(file)
    }

    /// Loads `text` as the file `probe.yaml` and returns the load error's message.
    private func loadError(_ text: String) throws -> String {
        try withFile(text) { file in
            let error = #expect(throws: SimulatorError.self) { try Scenario.load(file) }
            return error?.description ?? ""
        }
    }

    @Test("a well-formed step loads")
    func valid() throws {
        let scenario = try withFile(Self.scenario(thirdStep: "- send: {actor: ann, chat: ab, count: 3}")) { try Scenario.load($0) }
        #expect(scenario.steps.map(\.kind) == ["invite", "accept", "send"])
    }

    @Test("the user socket's steps load, and refuse a misspelled field or an unknown 'via' as the others do")
    func userSocketSteps() throws {
        let steps = """
            - user_socket: {actor: ann}
              - send: {actor: ann, chat: ab, client_id: k, count: 3, wait: false}
              - retry: {actor: ann, chat: ab, client_id: k-2, via: rest}
              - drop: {actor: ann}
              - resume: {actor: ann}
              - edit: {actor: ann, chat: ab, message: k-1, text: fixed}
              - delete: {actor: ann, chat: ab, message: k-3, refused: false}
              - typing: {actor: ben, chat: ab}
              - read: {actor: ben, chat: ab, seq: 2, via: socket}
              - history: {actor: ben, chat: ab, socket: user, limit: 7}
              - rename: {actor: ann, chat: ab, name: x, expect: 406}
              - remove: {actor: ann, chat: ab, user: ben, expect: 406}
              - leave: {actor: ben, chat: ab, expect: 406}
            """
        let scenario = try withFile(Self.scenario(thirdStep: steps)) { try Scenario.load($0) }
        #expect(scenario.steps.map(\.kind).dropFirst(2) == [
            "user_socket", "send", "retry", "drop", "resume", "edit", "delete", "typing", "read", "history", "rename", "remove", "leave",
        ])
        let misspelled = try loadError(Self.scenario(thirdStep: "- retry: {actor: ann, chat: ab, client_id: k, txet: again}"))
        #expect(misspelled.contains("step 3 (retry)") && misspelled.contains("unknown field 'txet'"), "\(misspelled)")
        let via = try loadError(Self.scenario(thirdStep: "- read: {actor: ann, chat: ab, via: carrier-pigeon}"))
        #expect(via.contains("step 3 (read)"), "\(via)")
    }

    @Test("a misspelled field is refused at load, naming file, step and field")
    func misspelledField() throws {
        let message = try loadError(Self.scenario(thirdStep: "- send: {actor: ann, chat: ab, cuont: 3}"))
        #expect(message.contains("probe.yaml"), "\(message)")
        #expect(message.contains("step 3 (send)"), "\(message)")
        #expect(message.contains("unknown field 'cuont'"), "\(message)")
    }

    @Test("a missing required field is refused at load, naming file, step and field")
    func missingField() throws {
        let message = try loadError(Self.scenario(thirdStep: "- connect: {actor: ann}"))
        #expect(message.contains("probe.yaml"), "\(message)")
        #expect(message.contains("step 3 (connect)"), "\(message)")
        #expect(message.contains("missing field 'chat'"), "\(message)")
    }

    @Test("a mistyped field is refused at load, naming file, step and field")
    func mistypedField() throws {
        let message = try loadError(Self.scenario(thirdStep: "- send: {actor: ann, chat: ab, count: many}"))
        #expect(message.contains("probe.yaml"), "\(message)")
        #expect(message.contains("step 3 (send)"), "\(message)")
        #expect(message.contains("field 'count'"), "\(message)")
    }

    @Test("an unknown step kind is refused at load, naming file, step and kind")
    func unknownKind() throws {
        let message = try loadError(Self.scenario(thirdStep: "- shout: {actor: ann, chat: ab}"))
        #expect(message.contains("probe.yaml"), "\(message)")
        #expect(message.contains("step 3 (shout)"), "\(message)")
        #expect(message.contains("unknown step kind 'shout'"), "\(message)")
    }

    @Test("an unknown actor field is refused at load")
    func actorField() throws {
        let message = try loadError(Self.scenario(thirdStep: "- settle:").replacingOccurrences(of: "- name: ben", with: "- name: ben\n    sigup: google"))
        #expect(message.contains("probe.yaml"), "\(message)")
        #expect(message.contains("actor 2"), "\(message)")
        #expect(message.contains("unknown field 'sigup'"), "\(message)")
    }

    @Test("tags load; a scenario without tags has none")
    func tags() throws {
        let tagged = try withFile(Self.scenario(thirdStep: "- settle:").replacingOccurrences(of: "actors:", with: "tags: [contract, extension]\nactors:")) {
            try Scenario.load($0)
        }
        #expect(tagged.tags == [.contract, .extension])
        #expect(tagged.isSelected(by: [.extension]) && tagged.isSelected(by: nil))
        let untagged = try withFile(Self.scenario(thirdStep: "- settle:")) { try Scenario.load($0) }
        #expect(untagged.tags.isEmpty)
        #expect(!untagged.isSelected(by: [.contract]) && untagged.isSelected(by: nil))
    }

    @Test("an unknown tag is refused at load, naming the file, the tag and the known ones")
    func unknownTag() throws {
        let message = try loadError(Self.scenario(thirdStep: "- settle:").replacingOccurrences(of: "actors:", with: "tags: [contrct]\nactors:"))
        #expect(message.contains("probe.yaml"), "\(message)")
        #expect(message.contains("unknown tag 'contrct' (tags: contract, extension)"), "\(message)")
    }

    @Test("--only takes known tags, comma-separated, and refuses an unknown one by name")
    func onlyList() throws {
        #expect(try ScenarioTag.parse(list: "contract") == [.contract])
        #expect(try ScenarioTag.parse(list: " extension , contract") == [.contract, .extension])
        let error = #expect(throws: SimulatorError.self) { try ScenarioTag.parse(list: "contract,smoke") }
        #expect(error?.description == "unknown tag 'smoke' (tags: contract, extension)")
        #expect(throws: SimulatorError.self) { try ScenarioTag.parse(list: " , ") }
    }
}
