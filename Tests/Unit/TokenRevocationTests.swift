@testable import ChatBackend
import Testing

@Suite("Token revocations")
struct TokenRevocationTests {
    @Test("a membership revocation closes the user's sockets on that chat only, whatever their token")
    func membership() {
        let left = TokenRevocation.membership(userID: 7, chatID: 3)
        #expect(left.revokes(userID: 7, digest: "a", chatID: 3))
        #expect(!left.revokes(userID: 7, digest: "a", chatID: 4))
        #expect(!left.revokes(userID: 8, digest: "a", chatID: 3))
        let logOut = TokenRevocation(userID: 7, tokenDigests: ["a"])
        #expect(logOut.revokes(userID: 7, digest: "a", chatID: 3) && logOut.revokes(userID: 7, digest: "a", chatID: 4))
        #expect(!logOut.revokes(userID: 7, digest: "b", chatID: 3))
    }

    @Test("between nodes a revocation keeps its chat; a node that knows no chat field revokes nothing for it")
    func payload() {
        let left = TokenRevocation.membership(userID: 7, chatID: 3)
        #expect(TokenRevocation(payload: left.payload) == left)
        let password = TokenRevocation(userID: 7, keeping: "k")
        #expect(TokenRevocation(payload: password.payload) == password)
        // What a node of the previous release reads of it: no chat, no tokens.
        let old = TokenRevocation(userID: 7, tokenDigests: left.tokenDigests, keeping: left.keeping)
        #expect(!old.revokes(userID: 7, digest: "a", chatID: 3))
    }
}
