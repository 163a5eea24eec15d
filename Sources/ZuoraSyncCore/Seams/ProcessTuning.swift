import CCrypto

/// Process-wide settings of the C runtime, made once at start by the executable.
public enum ProcessTuning {
    /// Caps glibc's malloc arenas (its default allows 8 per core, created as threads allocate),
    /// which keeps memory freed on one thread reusable by the others.
    public static func limitMallocArenas(to count: Int32) {
        _ = zs_limit_malloc_arenas(count)
    }

    /// Returns what was freed to the system (glibc's `malloc_trim`): freed memory otherwise stays
    /// in the arena of the thread that used it, where the next stage's allocations may not land.
    public static func releaseFreeMemory() {
        _ = zs_release_free_memory()
    }
}
