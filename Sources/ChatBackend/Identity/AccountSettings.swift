/// How accounts behave, set by the operator.
public struct AccountSettings: Sendable {
    /// bcrypt work factor of stored passwords.
    public var bcryptCost: UInt8 = 12
    /// Refuse log-in until the e-mail is confirmed (off by default, as in the original).
    public var requireEmailVerification = false
    /// Ask for `old_password` on password change.
    public var requireOldPassword = false
    /// The password rules.
    public var passwordPolicy = PasswordPolicy()

    public init() {}
}
