/*
 * rtcheck.c - LD_PRELOAD interposer that counts memory-allocation, lock and mmap calls made
 * while it is armed. The LV2 test host (tests/lv2host.c) arms it around every run() and
 * work_response() call, from any thread, and asserts the counts stay 0: the plugin's audio
 * path neither allocates nor locks.
 *
 *   LD_PRELOAD=build/librtcheck.so build/test_lv2host
 *
 * The host finds rtcheck_arm / rtcheck_counts with dlsym(RTLD_DEFAULT, ...); without the
 * preload they are absent and the host skips the check (e.g. under AddressSanitizer, whose
 * runtime must come first and replaces malloc itself).
 *
 * Allocation functions forward to glibc's __libc_* entry points (no dlsym: dlsym itself may
 * call calloc); lock functions forward through dlsym(RTLD_NEXT) resolved on first use.
 * Counting is global (any thread): while run() is in progress nothing else in the test host
 * runs, so a call by any thread, e.g. a BLAS worker woken by run(), is the plugin's doing.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stddef.h>
#include <sys/mman.h>

extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t m);
extern void *__libc_realloc(void *p, size_t n);
extern void __libc_free(void *p);
extern void *__libc_memalign(size_t align, size_t n);
extern void *__libc_valloc(size_t n);
extern void *__libc_pvalloc(size_t n);

#define EXPORT __attribute__((visibility("default")))

static atomic_int armed;
static atomic_long n_alloc, n_free, n_lock, n_mmap;

EXPORT void rtcheck_arm(int on) { atomic_store(&armed, on); }

EXPORT void rtcheck_counts(long *alloc, long *freed, long *lock, long *mmaps)
{
    *alloc = atomic_load(&n_alloc);
    *freed = atomic_load(&n_free);
    *lock = atomic_load(&n_lock);
    *mmaps = atomic_load(&n_mmap);
}

EXPORT void rtcheck_reset(void)
{
    atomic_store(&n_alloc, 0);
    atomic_store(&n_free, 0);
    atomic_store(&n_lock, 0);
    atomic_store(&n_mmap, 0);
}

#define COUNT(c)                                                                               \
    do {                                                                                       \
        if (atomic_load_explicit(&armed, memory_order_relaxed))                                \
            atomic_fetch_add(&(c), 1);                                                         \
    } while (0)

EXPORT void *malloc(size_t n)
{
    COUNT(n_alloc);
    return __libc_malloc(n);
}

EXPORT void *calloc(size_t n, size_t m)
{
    COUNT(n_alloc);
    return __libc_calloc(n, m);
}

EXPORT void *realloc(void *p, size_t n)
{
    COUNT(n_alloc);
    return __libc_realloc(p, n);
}

EXPORT void free(void *p)
{
    COUNT(n_free);
    __libc_free(p);
}

EXPORT int posix_memalign(void **out, size_t align, size_t n)
{
    COUNT(n_alloc);
    if (align < sizeof(void *) || (align & (align - 1)))
        return EINVAL;
    void *p = __libc_memalign(align, n);
    if (!p && n)
        return ENOMEM;
    *out = p;
    return 0;
}

EXPORT void *aligned_alloc(size_t align, size_t n)
{
    COUNT(n_alloc);
    return __libc_memalign(align, n);
}

EXPORT void *memalign(size_t align, size_t n)
{
    COUNT(n_alloc);
    return __libc_memalign(align, n);
}

EXPORT void *valloc(size_t n)
{
    COUNT(n_alloc);
    return __libc_valloc(n);
}

EXPORT void *pvalloc(size_t n)
{
    COUNT(n_alloc);
    return __libc_pvalloc(n);
}

#define REAL(ret, name, args)                                                                  \
    static ret(*real_##name) args;                                                             \
    if (!real_##name)                                                                          \
        real_##name = (ret(*) args)dlsym(RTLD_NEXT, #name);

EXPORT int pthread_mutex_lock(pthread_mutex_t *m)
{
    REAL(int, pthread_mutex_lock, (pthread_mutex_t *))
    COUNT(n_lock);
    return real_pthread_mutex_lock(m);
}

EXPORT int pthread_mutex_trylock(pthread_mutex_t *m)
{
    REAL(int, pthread_mutex_trylock, (pthread_mutex_t *))
    COUNT(n_lock);
    return real_pthread_mutex_trylock(m);
}

EXPORT int pthread_rwlock_rdlock(pthread_rwlock_t *l)
{
    REAL(int, pthread_rwlock_rdlock, (pthread_rwlock_t *))
    COUNT(n_lock);
    return real_pthread_rwlock_rdlock(l);
}

EXPORT int pthread_rwlock_wrlock(pthread_rwlock_t *l)
{
    REAL(int, pthread_rwlock_wrlock, (pthread_rwlock_t *))
    COUNT(n_lock);
    return real_pthread_rwlock_wrlock(l);
}

EXPORT int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m)
{
    REAL(int, pthread_cond_wait, (pthread_cond_t *, pthread_mutex_t *))
    COUNT(n_lock);
    return real_pthread_cond_wait(c, m);
}

EXPORT int sem_wait(sem_t *s)
{
    REAL(int, sem_wait, (sem_t *))
    COUNT(n_lock);
    return real_sem_wait(s);
}

EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    REAL(void *, mmap, (void *, size_t, int, int, int, off_t))
    COUNT(n_mmap);
    return real_mmap(addr, len, prot, flags, fd, off);
}

EXPORT int munmap(void *addr, size_t len)
{
    REAL(int, munmap, (void *, size_t))
    COUNT(n_mmap);
    return real_munmap(addr, len);
}
