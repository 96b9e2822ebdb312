/// The checks Django's `EmailValidator` makes that matter for an account's address.
enum EmailAddress {
    /// The form an address is stored in: compatibility-normalized (NFKC), so a full-width or
    /// long-s spelling of an address is the address itself. Check ``isValid(_:)`` on this form.
    static func normalized(_ text: String) -> String {
        text.precomposedStringWithCompatibilityMapping
    }

    /// Whether `text` looks like a deliverable address: one `@`, a non-empty local part, a dotted
    /// domain of letters, digits and hyphens, no spaces or control characters.
    static func isValid(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, let local = parts.first, let domain = parts.last,
            !local.isEmpty, local.count <= 64, !domain.isEmpty
        else { return false }
        guard !text.contains(where: { $0.isWhitespace || $0.asciiValue.map { $0 < 0x20 } == true }) else { return false }
        // Django's local part is ASCII only: no look-alike letters (`ı` for `l`) before the `@`.
        guard local.allSatisfy(\.isASCII) else { return false }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2 else { return false }
        return labels.allSatisfy { label in
            !label.isEmpty && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" }
        }
    }
}
