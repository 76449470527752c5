/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* ThreadSanitizer's view of GLib's synchronization. The GLib this builds
 * against is not built with TSan: GMutex and GCond are futexes TSan cannot
 * see, and GThreadPool, GTask and GMainContext hand data between threads
 * through them. A TSan build (-Db_sanitize=thread) force-includes this
 * header into every C file, before GLib's headers: GMutex and GCond calls,
 * GLib's own declarations and its inline GMutexLocker included, become
 * nf-tsan.c's wrappers, which tell TSan about each lock and unlock; so do
 * GTask's run, return and propagate calls, a hand-off each.
 * NF_TSAN_RELEASE (p) before a hand-off and NF_TSAN_ACQUIRE (p) where the
 * other thread picks it up mark the hand-offs GLib makes (p: the task or
 * queued item). Other builds rename nothing and the two marks are empty.
 * GRecMutex and GThread are pthreads underneath, which TSan sees itself. */

#if defined(__SANITIZE_THREAD__)
#define NF_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define NF_TSAN 1
#endif
#endif

#ifdef NF_TSAN

#include <sanitizer/tsan_interface.h>

#define g_mutex_init      nf_tsan_mutex_init
#define g_mutex_clear     nf_tsan_mutex_clear
#define g_mutex_lock      nf_tsan_mutex_lock
#define g_mutex_trylock   nf_tsan_mutex_trylock
#define g_mutex_unlock    nf_tsan_mutex_unlock
#define g_cond_wait       nf_tsan_cond_wait
#define g_cond_wait_until nf_tsan_cond_wait_until

/* GTask: the thread function is run after a release on the task, and a
 * result is returned after one and propagated after an acquire. */
#define g_task_run_in_thread     nf_tsan_task_run_in_thread
#define g_task_return_pointer    nf_tsan_task_return_pointer
#define g_task_return_boolean    nf_tsan_task_return_boolean
#define g_task_return_int        nf_tsan_task_return_int
#define g_task_return_error      nf_tsan_task_return_error
#define g_task_return_new_error  nf_tsan_task_return_new_error
#define g_task_propagate_pointer nf_tsan_task_propagate_pointer
#define g_task_propagate_boolean nf_tsan_task_propagate_boolean
#define g_task_propagate_int     nf_tsan_task_propagate_int

#define NF_TSAN_RELEASE(p) __tsan_release ((void *) (p))
#define NF_TSAN_ACQUIRE(p) __tsan_acquire ((void *) (p))

#else

#define NF_TSAN_RELEASE(p) ((void) (p))
#define NF_TSAN_ACQUIRE(p) ((void) (p))

#endif
