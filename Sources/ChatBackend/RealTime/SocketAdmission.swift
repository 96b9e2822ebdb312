import Foundation
import Hummingbird

/// Decides who may open `/ws/chat/<uuid>/`: the token (header, or `?token=` for browsers) must be
/// valid (401), the chat must exist (404) and the caller must take part in it (403).
struct SocketAdmission {
    let store: ChatStore

    /// Who was let in, to which chat, with which token.
    struct Admitted {
        let user: User
        let chat: Chat
        let tokenDigest: String
    }

    /// The caller and the chat, or the refusal as an ``APIError``.
    func admit(_ request: Request, chatParameter: String?) async throws -> Admitted {
        let key = TokenAuthenticator.presentedKey(request)
            ?? request.uri.queryParameters["token"].map { SecretKey(String($0.prefix(256))) }
        guard let key else { throw APIError.notAuthenticated }
        guard let user = try await store.user(tokenHash: key.digest) else { throw APIError.invalidToken }
        guard let uuid = chatParameter.flatMap(UUID.init(uuidString:)), let chat = try await store.chat(uuid: uuid) else {
            throw APIError.notFound
        }
        guard try await store.isParticipant(userID: user.id, chatID: chat.id) else {
            throw APIError.detail(.forbidden, "You do not take part in this chat.")
        }
        return Admitted(user: user, chat: chat, tokenDigest: key.digest)
    }
}
