import CCrypto
import Foundation
import ZuoraSyncCore
import ZuoraSyncHTTP

/// Shares tokens between processes (an hourly cron run and a worker reuse one token), in
/// `<data>/auth/tokens/<sha256(base_url, client_id)>.json`, mode 0600. The token is stored
/// encrypted (AES-256-GCM) under a key derived from the client secret, so the file is useless to
/// anyone who does not already hold the secret, and no token appears in clear under the data
/// directory.
public struct TokenCache: Sendable {
    public let directory: URL

    public init(dataDirectory: URL) {
        directory = dataDirectory.appendingPathComponent("auth/tokens", isDirectory: true)
    }

    struct Entry: Codable, VersionedFile {
        static let currentFormatVersion = 1
        var formatVersion: Int
        var tokenType: String
        var scope: String?
        var obtainedAt: Date
        var expiresAt: Date
        var nonce: String
        var ciphertext: String
        var tag: String
    }

    func fileURL(baseURL: URL, clientID: String) -> URL {
        directory.appendingPathComponent(Digest.sha256Hex("\(baseURL.absoluteString)\n\(clientID)") + ".json")
    }

    /// The cached token, if present, readable with this secret, and still usable at `now`.
    public func load(baseURL: URL, clientID: String, secret: String, now: Date) -> AccessToken? {
        let url = fileURL(baseURL: baseURL, clientID: clientID)
        // A damaged or newer cache file only costs a token request; it is replaced on the next store.
        guard let entry = try? CanonicalJSON.readVersioned(Entry.self, from: url),
              let nonce = Data(base64Encoded: entry.nonce), nonce.count == 12,
              let cipher = Data(base64Encoded: entry.ciphertext), let tag = Data(base64Encoded: entry.tag), tag.count == 16
        else { return nil }
        let key = Self.key(clientID: clientID, secret: secret)
        var plain = [UInt8](repeating: 0, count: cipher.count + 16)
        let length = cipher.withUnsafeBytes { c in
            nonce.withUnsafeBytes { n in
                tag.withUnsafeBytes { t in
                    zs_aes256gcm_decrypt(key, n.bindMemory(to: UInt8.self).baseAddress, c.bindMemory(to: UInt8.self).baseAddress,
                                         Int32(cipher.count), t.bindMemory(to: UInt8.self).baseAddress, &plain)
                }
            }
        }
        guard length >= 0 else { return nil }
        let token = AccessToken(value: String(decoding: plain.prefix(Int(length)), as: UTF8.self), tokenType: entry.tokenType,
                                scope: entry.scope, obtainedAt: entry.obtainedAt, expiresAt: entry.expiresAt)
        return token.isUsable(at: now) ? token : nil
    }

    /// Stores the token for other processes; failures only cost a token request later.
    public func store(_ token: AccessToken, baseURL: URL, clientID: String, secret: String) {
        let key = Self.key(clientID: clientID, secret: secret)
        var nonce = [UInt8](repeating: 0, count: 12)
        guard zs_random_bytes(&nonce, 12) == 1 else { return }
        let plain = Array(token.value.utf8)
        var cipher = [UInt8](repeating: 0, count: plain.count + 16)
        var tag = [UInt8](repeating: 0, count: 16)
        let length = zs_aes256gcm_encrypt(key, nonce, plain, Int32(plain.count), &cipher, &tag)
        guard length >= 0 else { return }
        let entry = Entry(formatVersion: 1, tokenType: token.tokenType, scope: token.scope, obtainedAt: token.obtainedAt,
                          expiresAt: token.expiresAt, nonce: Data(nonce).base64EncodedString(),
                          ciphertext: Data(cipher.prefix(Int(length))).base64EncodedString(), tag: Data(tag).base64EncodedString())
        guard let data = try? CanonicalJSON.encode(entry) else { return }
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try? AtomicFile.write(data, to: fileURL(baseURL: baseURL, clientID: clientID), mode: 0o600)
    }

    /// Forgets the cached token (after Zuora refused it).
    public func remove(baseURL: URL, clientID: String) {
        try? FileManager.default.removeItem(at: fileURL(baseURL: baseURL, clientID: clientID))
    }

    private static func key(clientID: String, secret: String) -> [UInt8] {
        Digest.sha256(Data("zuora-sync token cache v1\n\(clientID)\n\(secret)".utf8))
    }
}
