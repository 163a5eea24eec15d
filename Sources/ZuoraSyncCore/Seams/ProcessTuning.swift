import CCrypto

/// Process-wide settings of the C runtime, made once at start by the executable.
public enum ProcessTuning {
    /// Caps glibc's malloc arenas (its default allows 8 per core, created as threads allocate),
    /// which keeps memory freed on one thread reusable by the others.
    public static func limitMallocArenas(to count: Int32) {
        _ = zs_limit_malloc_arenas(count)
    }

    /// Gives every block of at least `bytes` a mapping of its own, returned to the system as soon
    /// as it is freed. glibc's default threshold slides up after the first large block is freed,
    /// so the growing arrays of a tenant's listing, plan and files then stayed in the heap, each
    /// freed size still resident: 9 MB of a first sync of 20,000 workflows' peak (91 → 82 MB).
    public static func fixLargeBlockThreshold(bytes: Int32) {
        _ = zs_fix_mmap_threshold(bytes)
    }

    /// Returns what was freed to the system (glibc's `malloc_trim`): freed memory otherwise stays
    /// in the arena of the thread that used it, where the next stage's allocations may not land.
    public static func releaseFreeMemory() {
        _ = zs_release_free_memory()
    }
}
