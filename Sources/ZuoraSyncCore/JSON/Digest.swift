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
