import Foundation

/// Checks identifiers that become path components, so that nothing from the configuration or the
/// API can point a write outside the data directory.
public enum SafeIdentifier {
    /// A customer id: lower-case letters, digits, `-` and `_`, starting with a letter or digit, at
    /// most 64 characters.
    public static func isValidCustomerID(_ id: String) -> Bool {
        guard !id.isEmpty, id.count <= 64, let first = id.unicodeScalars.first,
              isLowerAlphanumeric(first) else { return false }
        return id.unicodeScalars.allSatisfy { isLowerAlphanumeric($0) || $0 == "-" || $0 == "_" }
    }

    /// A run or job id: ASCII letters, digits, `-`, `_` and `.`, not starting with a dot.
    public static func isValidRunID(_ id: String) -> Bool {
        guard !id.isEmpty, id.count <= 128, !id.hasPrefix(".") else { return false }
        return id.unicodeScalars.allSatisfy {
            ($0.isASCII && (CharacterSet.alphanumerics.contains($0))) || $0 == "-" || $0 == "_" || $0 == "."
        }
    }

    /// A path component for a Zuora workflow id: a positive integer.
    public static func workflowFileName(_ id: Int64) -> String {
        precondition(id > 0, "workflow ids are validated as positive before they reach a path")
        return "\(id).json"
    }

    private static func isLowerAlphanumeric(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar)
    }
}
