import Foundation

/// Removes secrets and tokens from any text before it is shown or stored: the plain value and its
/// URL-encoded and base64 forms (upstream error bodies may echo any of them).
public func redact(_ text: String, secrets: [String]) -> String {
    var result = text
    for secret in secrets where secret.count >= 4 {
        for form in Redaction.forms(of: secret) where result.contains(form) {
            result = result.replacingOccurrences(of: form, with: "[redacted]")
        }
    }
    return result
}

enum Redaction {
    static func forms(of secret: String) -> [String] {
        var forms = [secret]
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        if let encoded = secret.addingPercentEncoding(withAllowedCharacters: allowed), encoded != secret { forms.append(encoded) }
        let base64 = Data(secret.utf8).base64EncodedString()
        forms.append(base64)
        // Inside a longer base64 text (Basic auth of "id:secret"), the padding-free core still shows.
        let core = base64.replacingOccurrences(of: "=", with: "")
        if core.count >= 8, core != base64 { forms.append(String(core.dropLast(2))) }
        return forms.sorted { $0.count > $1.count }
    }
}
