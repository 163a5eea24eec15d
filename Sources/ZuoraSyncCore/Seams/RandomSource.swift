import Foundation

/// The seam for randomness (retry jitter, run and track ids, temporary file names). Tests pin it.
public struct RandomSource: Sendable {
    private let next: @Sendable () -> UInt64

    public init(next: @escaping @Sendable () -> UInt64) { self.next = next }

    /// The system's generator.
    public static let system = RandomSource { UInt64.random(in: 0...UInt64.max) }

    /// A fixed sequence from a seed (SplitMix64), for tests and golden runs.
    public static func seeded(_ seed: UInt64) -> RandomSource {
        let state = SeedState(seed)
        return RandomSource { state.next() }
    }

    /// A uniformly distributed 64-bit value.
    public func nextUInt64() -> UInt64 { next() }

    /// A value in [0, 1).
    public func nextUnitDouble() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// `count` lower-case hex digits.
    public func hex(digits count: Int) -> String {
        var text = ""
        while text.count < count { text += HexFormat.hex(next()) }
        return String(text.prefix(count))
    }
}

/// SplitMix64 state behind a lock.
private final class SeedState: @unchecked Sendable {
    // @unchecked: `state` is only touched under `lock`.
    private let lock = NSLock()
    private var state: UInt64
    init(_ seed: UInt64) { state = seed }
    func next() -> UInt64 {
        lock.withLock {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }
}

/// Hex formatting without `String(format:)`.
public enum HexFormat {
    private static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    /// 16 lower-case hex digits of a 64-bit value.
    public static func hex(_ value: UInt64) -> String {
        var bytes = [UInt8](repeating: 0, count: 16)
        for index in 0..<16 { bytes[15 - index] = digits[Int((value >> (UInt64(index) * 4)) & 0xF)] }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Lower-case hex of bytes.
    public static func hex(_ bytes: some Sequence<UInt8>) -> String {
        var out: [UInt8] = []
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
