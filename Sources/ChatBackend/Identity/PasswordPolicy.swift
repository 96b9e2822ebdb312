/// The password rules of Django's default validators, with their messages, so registration and
/// password change refuse what the original refused and say it the same way.
public struct PasswordPolicy: Sendable {
    /// Shortest accepted password.
    public var minimumLength = 8
    /// Longest accepted password: bounds the work of hashing and of the similarity check.
    public var maximumLength = 128

    /// Creates the default policy.
    public init() {}

    /// A rule a password broke, split as the contract splits them.
    public struct Violations: Sendable, Equatable {
        /// Messages about the password alone (shown under `password1` / `new_password1`).
        public var password: [String] = []
        /// Messages about the password against the user's attributes (`non_field_errors`).
        public var similarity: [String] = []

        public var isEmpty: Bool { password.isEmpty && similarity.isEmpty }
    }

    /// What is wrong with `password` for a user with this username and e-mail.
    public func check(_ password: String, username: String, email: String) -> Violations {
        var violations = Violations()
        if password.count < minimumLength {
            violations.password.append("This password is too short. It must contain at least \(minimumLength) characters.")
        }
        if password.count > maximumLength {
            violations.password.append("Ensure this field has no more than \(maximumLength) characters.")
            return violations
        }
        if CommonPasswords.contains(password.lowercased()) {
            violations.password.append("This password is too common.")
        }
        if !password.isEmpty, password.allSatisfy(\.isNumber) {
            violations.password.append("This password is entirely numeric.")
        }
        let attributes: [(String, String)] = [("username", username), ("email address", email)]
        for (label, value) in attributes where Self.isTooSimilar(password, to: value) {
            violations.similarity.append("The password is too similar to the \(label).")
        }
        return violations
    }

    /// Django's `UserAttributeSimilarityValidator`: the password against the attribute and each of
    /// its parts (split on non-alphanumerics), with a similarity ratio of 0.7 or more refused.
    static func isTooSimilar(_ password: String, to attribute: String) -> Bool {
        guard !attribute.isEmpty else { return false }
        let lowered = password.lowercased()
        let value = attribute.lowercased()
        let parts = [value] + value.split { !$0.isLetter && !$0.isNumber }.map(String.init)
        return parts.contains { !$0.isEmpty && similarity(lowered, $0) >= 0.7 }
    }

    /// 2·M / T, where M is the length of the longest common subsequence: close to difflib's ratio.
    static func similarity(_ a: String, _ b: String) -> Double {
        let x = Array(a), y = Array(b)
        guard !x.isEmpty, !y.isEmpty else { return 0 }
        var previous = [Int](repeating: 0, count: y.count + 1)
        for i in 1...x.count {
            var current = [Int](repeating: 0, count: y.count + 1)
            for j in 1...y.count {
                current[j] = x[i - 1] == y[j - 1] ? previous[j - 1] + 1 : max(previous[j], current[j - 1])
            }
            previous = current
        }
        return 2 * Double(previous[y.count]) / Double(x.count + y.count)
    }
}
