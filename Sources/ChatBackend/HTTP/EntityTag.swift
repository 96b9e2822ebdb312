import Foundation

/// Entity tags of files served as they are (the web app's, Swagger UI's).
enum EntityTag {
    /// Whether an `If-None-Match` value names `entityTag` (or is `*`); weak comparison, as RFC 9110
    /// asks for this header, so a `W/` prefix a proxy added still matches.
    static func matches(_ ifNoneMatch: String, entityTag: String) -> Bool {
        ifNoneMatch.split(separator: ",").contains { candidate in
            var tag = candidate.trimmingCharacters(in: .whitespaces)
            if tag == "*" { return true }
            if tag.hasPrefix("W/") { tag.removeFirst(2) }
            return tag == entityTag
        }
    }
}
