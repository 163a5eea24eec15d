// The libcrypto primitives the tool needs (SHA-256 for content hashes, random bytes and
// AES-256-GCM for the token cache) and syncfs. Everything is static inline: no C target to compile.
#ifndef ZUORA_SYNC_CCRYPTO_SHIM_H
#define ZUORA_SYNC_CCRYPTO_SHIM_H

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/rand.h>
#include <string.h>

/// SHA-256 of `length` bytes into `out` (32 bytes).
static inline void zs_sha256(const void *data, size_t length, unsigned char *out) {
    SHA256((const unsigned char *)data, length, out);
}

/// SHA-256 over bytes that arrive in pieces: `zs_sha256_begin` (NULL on failure), then
/// `zs_sha256_update` for each piece, then `zs_sha256_end` (writes 32 bytes into `out` when it is
/// not NULL, and frees the context).
static inline void *zs_sha256_begin(void) {
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) { EVP_MD_CTX_free(ctx); return NULL; }
    return ctx;
}
static inline int zs_sha256_update(void *ctx, const void *data, size_t length) {
    return EVP_DigestUpdate((EVP_MD_CTX *)ctx, data, length);
}
static inline int zs_sha256_end(void *ctx, unsigned char *out) {
    int ok = 1;
    if (out) { unsigned int length = 0; ok = EVP_DigestFinal_ex((EVP_MD_CTX *)ctx, out, &length); }
    EVP_MD_CTX_free((EVP_MD_CTX *)ctx);
    return ok;
}

/// Fills `out` with `length` cryptographically random bytes; returns 1 on success.
static inline int zs_random_bytes(unsigned char *out, int length) {
    return RAND_bytes(out, length);
}

/// AES-256-GCM. Encrypt: returns ciphertext length (== plaintext length) or -1; writes a 16-byte tag.
static inline int zs_aes256gcm_encrypt(const unsigned char *key, const unsigned char *iv12,
                                       const unsigned char *plain, int plain_len,
                                       unsigned char *cipher, unsigned char *tag16) {
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int len = 0, total = 0, ok = ctx != NULL;
    ok = ok && EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, iv12) == 1;
    ok = ok && EVP_EncryptUpdate(ctx, cipher, &len, plain, plain_len) == 1;
    total = len;
    ok = ok && EVP_EncryptFinal_ex(ctx, cipher + total, &len) == 1;
    total += len;
    ok = ok && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, tag16) == 1;
    if (ctx) EVP_CIPHER_CTX_free(ctx);
    return ok ? total : -1;
}

/// AES-256-GCM decrypt; returns plaintext length, or -1 when the tag does not verify.
static inline int zs_aes256gcm_decrypt(const unsigned char *key, const unsigned char *iv12,
                                       const unsigned char *cipher, int cipher_len,
                                       const unsigned char *tag16, unsigned char *plain) {
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int len = 0, total = 0, ok = ctx != NULL;
    ok = ok && EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, iv12) == 1;
    ok = ok && EVP_DecryptUpdate(ctx, plain, &len, cipher, cipher_len) == 1;
    total = len;
    ok = ok && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, (void *)tag16) == 1;
    ok = ok && EVP_DecryptFinal_ex(ctx, plain + total, &len) == 1;
    total += len;
    if (ctx) EVP_CIPHER_CTX_free(ctx);
    return ok ? total : -1;
}

/// glibc declares syncfs only under _GNU_SOURCE, and defining that here would change system
/// headers (fd_set) shared with other modules; the prototype is stable, so it is declared here.
extern int syncfs(int fd);

/// Flushes the whole file system that holds `fd` (one call instead of an fsync per file).
static inline int zs_syncfs(int fd) { return syncfs(fd); }

/// glibc's mallopt(M_ARENA_MAX, n) (<malloc.h> is not in the Glibc module): at most `n` malloc
/// arenas instead of up to 8 per core, one per thread that ever allocated. Returns 1 on success.
#include <malloc.h>
static inline int zs_limit_malloc_arenas(int n) { return mallopt(M_ARENA_MAX, n); }

/// glibc's mallopt(M_MMAP_THRESHOLD, bytes): blocks of at least `bytes` get a mapping of their own,
/// returned to the system when freed. Setting it also turns off glibc's sliding threshold, which
/// rises after the first such block is freed (up to 32 MB) and then keeps large blocks in the heap.
static inline int zs_fix_mmap_threshold(int bytes) { return mallopt(M_MMAP_THRESHOLD, bytes); }

/// glibc's malloc_trim(0): returns the free memory of every arena to the system.
static inline int zs_release_free_memory(void) { return malloc_trim(0); }

#endif
