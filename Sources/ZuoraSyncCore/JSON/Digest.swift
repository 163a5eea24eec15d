import CCrypto
import Foundation

/// SHA-256 through the system libcrypto.
public enum Digest {
    /// Lower-case hex SHA-256 of `data`.
    public static func sha256Hex(_ data: Data) -> String {
        HexFormat.hex(sha256(data))
    }

    /// Raw 32-byte SHA-256 of `data`.
    public static func sha256(_ data: Data) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        data.withUnsafeBytes { buffer in
            out.withUnsafeMutableBufferPointer { outBuffer in
                zs_sha256(buffer.baseAddress, buffer.count, outBuffer.baseAddress)
            }
        }
        return out
    }

    public static func sha256Hex(_ text: String) -> String { sha256Hex(Data(text.utf8)) }
}

/// SHA-256 of bytes that arrive in pieces (a file written as it is encoded).
public final class IncrementalSHA256 {
    private var context: UnsafeMutableRawPointer?

    public init() { context = zs_sha256_begin() }

    deinit { if let context { _ = zs_sha256_end(context, nil) } }

    public func update(_ bytes: UnsafeRawBufferPointer) {
        guard let context, bytes.count > 0 else { return }
        _ = zs_sha256_update(context, bytes.baseAddress, bytes.count)
    }

    /// Lower-case hex of the digest; the hasher takes no more bytes after it. Nil when libcrypto
    /// could not start a digest.
    public func finishHex() -> String? {
        guard let context else { return nil }
        self.context = nil
        var out = [UInt8](repeating: 0, count: 32)
        let ok = out.withUnsafeMutableBufferPointer { zs_sha256_end(context, $0.baseAddress) }
        return ok == 1 ? HexFormat.hex(out) : nil
    }
}
