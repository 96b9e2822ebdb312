/// Text made inert in HTML and SVG: for element content and double-quoted attribute values alike.
/// Every string a report or the fake issuer's consent page did not write itself goes through here
/// (error kinds, close reasons, client names, the server's URL, a login hint), since a server under
/// test or a browser chooses some of them.
public enum HTML {
    public static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for character in text.unicodeScalars {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            // Control characters other than tab and newline are not allowed in HTML text.
            case _ where character.value < 0x20 && character != "\t" && character != "\n": escaped += "\u{FFFD}"
            case "\u{7F}": escaped += "\u{FFFD}"
            default: escaped.unicodeScalars.append(character)
            }
        }
        return escaped
    }
}
