import Foundation

/// Rules for text a client sends, shared by REST fields and socket frames.
public enum TextRules {
    /// Whether `text` holds a control character other than newline, carriage return and tab.
    ///
    /// Such text is refused, not stored: NUL in particular ends a string in SQLite's C API, so
    /// `"a\u{0}b"` would be stored and broadcast as `"a"`.
    public static func hasForbiddenControlCharacter(_ text: String) -> Bool {
        text.unicodeScalars.contains { scalar in
            scalar.properties.generalCategory == .control && scalar != "\n" && scalar != "\r" && scalar != "\t"
        }
    }

    /// The message for a field holding a forbidden control character.
    public static let controlCharacterMessage = "Control characters (other than newline and tab) are not allowed."

    /// The form two e-mail addresses are compared in: compatibility-normalized (NFKC, so `ｄ` is `d`
    /// and `ſ` is `s`) and case-folded, so look-alike spellings cannot make two accounts.
    public static func emailKey(_ email: String) -> String {
        email.precomposedStringWithCompatibilityMapping.folding(options: [.caseInsensitive], locale: nil)
    }
}
