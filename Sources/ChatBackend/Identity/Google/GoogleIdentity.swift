/// Who Google says the person is, once a token has been checked.
public struct GoogleIdentity: Sendable, Equatable {
    /// Google's stable id of the account (`sub`): it never changes, unlike the e-mail.
    public var subject: String
    public var email: String
    /// Whether Google vouches that the person controls `email`.
    public var emailVerified: Bool
}

/// Why a Google token was refused; each case is a sentence a client developer can act on.
public enum GoogleSignInError: Error, Equatable {
    /// The token is bad: answered 400 with this message.
    case rejected(String)
    /// Google could not be asked: answered 503, and sign-in works again once Google answers.
    case unavailable(String)

    var apiError: APIError {
        switch self {
        case .rejected(let message): .nonField(message)
        case .unavailable: .detail(.serviceUnavailable, "Google sign-in is unavailable right now; try again shortly.")
        }
    }
}
