/// A SHA-256 held as four words in place, not as 64 characters of text: a map of a tenant's
/// 20,000 export hashes then holds no string for each (about 110 bytes of heap each as `String`).
/// Text that is not a lower-case hex SHA-256 (a hand-edited store) is kept as it is, so nothing
/// compares equal that did not before.
public struct SHA256Hash: Hashable, Sendable {
    private let words: (UInt64, UInt64, UInt64, UInt64)
    private let other: String?

    public init(hex: String) {
        var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        var valid = hex.utf8.count == 64
        if valid {
            for (index, byte) in hex.utf8.enumerated() {
                let digit: UInt64
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt64(byte - UInt8(ascii: "0"))
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt64(byte - UInt8(ascii: "a") + 10)
                default: valid = false; digit = 0
                }
                guard valid else { break }
                switch index / 16 {
                case 0: words.0 = words.0 << 4 | digit
                case 1: words.1 = words.1 << 4 | digit
                case 2: words.2 = words.2 << 4 | digit
                default: words.3 = words.3 << 4 | digit
                }
            }
        }
        self.words = valid ? words : (0, 0, 0, 0)
        other = valid ? nil : hex
    }

    /// The lower-case hex text it was made from.
    public var hex: String {
        if let other { return other }
        return HexFormat.hex(words.0) + HexFormat.hex(words.1) + HexFormat.hex(words.2) + HexFormat.hex(words.3)
    }

    public static func == (first: SHA256Hash, second: SHA256Hash) -> Bool {
        first.words == second.words && first.other == second.other
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
        hasher.combine(words.1)
        hasher.combine(words.2)
        hasher.combine(words.3)
        hasher.combine(other)
    }
}
