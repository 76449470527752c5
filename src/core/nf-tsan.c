/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-tsan"

#include <gio/gio.h>

/* The GMutex, GCond and GTask wrappers that nestfarm/nf-tsan.h renames GLib's
 * calls to, built only under ThreadSanitizer: each calls GLib's own function
 * and tells TSan what it did, as its pthread interceptors would. */

/* The header renamed GLib's declarations to the wrappers below; the real
 * functions are declared here under their own names. */
#undef g_mutex_init
#undef g_mutex_clear
#undef g_mutex_lock
#undef g_mutex_trylock
#undef g_mutex_unlock
#undef g_cond_wait
#undef g_cond_wait_until

void g_mutex_init (GMutex *mutex);
void g_mutex_clear (GMutex *mutex);
void g_mutex_lock (GMutex *mutex);
gboolean g_mutex_trylock (GMutex *mutex);
void g_mutex_unlock (GMutex *mutex);
void g_cond_wait (GCond *cond, GMutex *mutex);
gboolean g_cond_wait_until (GCond *cond, GMutex *mutex, gint64 end_time);

void
nf_tsan_mutex_init (GMutex *mutex)
{
	g_mutex_init (mutex);
	__tsan_mutex_create (mutex, 0);
}

void
nf_tsan_mutex_clear (GMutex *mutex)
{
	__tsan_mutex_destroy (mutex, 0);
	g_mutex_clear (mutex);
}

void
nf_tsan_mutex_lock (GMutex *mutex)
{
	__tsan_mutex_pre_lock (mutex, 0);
	g_mutex_lock (mutex);
	__tsan_mutex_post_lock (mutex, 0, 0);
}

gboolean
nf_tsan_mutex_trylock (GMutex *mutex)
{
	gboolean locked;

	__tsan_mutex_pre_lock (mutex, __tsan_mutex_try_lock);
	locked = g_mutex_trylock (mutex);
	__tsan_mutex_post_lock (mutex,
				__tsan_mutex_try_lock | (locked ? 0 : __tsan_mutex_try_lock_failed),
				0);
	return locked;
}

void
nf_tsan_mutex_unlock (GMutex *mutex)
{
	__tsan_mutex_pre_unlock (mutex, 0);
	g_mutex_unlock (mutex);
	__tsan_mutex_post_unlock (mutex, 0);
}

/* A wait gives the mutex up and takes it back: an unlock and a lock. */
void
nf_tsan_cond_wait (GCond *cond, GMutex *mutex)
{
	__tsan_mutex_pre_unlock (mutex, 0);
	__tsan_mutex_post_unlock (mutex, 0);
	g_cond_wait (cond, mutex);
	__tsan_mutex_pre_lock (mutex, 0);
	__tsan_mutex_post_lock (mutex, 0, 0);
}

gboolean
nf_tsan_cond_wait_until (GCond *cond, GMutex *mutex, gint64 end_time)
{
	gboolean signalled;

	__tsan_mutex_pre_unlock (mutex, 0);
	__tsan_mutex_post_unlock (mutex, 0);
	signalled = g_cond_wait_until (cond, mutex, end_time);
	__tsan_mutex_pre_lock (mutex, 0);
	__tsan_mutex_post_lock (mutex, 0, 0);
	return signalled;
}

/* GTask hands a task to a worker and its result back through GLib's pools
 * and main contexts: a release on the task where one thread lets go, an
 * acquire where the other picks it up. */

#undef g_task_run_in_thread
#undef g_task_return_pointer
#undef g_task_return_boolean
#undef g_task_return_int
#undef g_task_return_error
#undef g_task_return_new_error
#undef g_task_propagate_pointer
#undef g_task_propagate_boolean
#undef g_task_propagate_int

void g_task_run_in_thread (GTask *task, GTaskThreadFunc task_func);
void g_task_return_pointer (GTask *task, gpointer result, GDestroyNotify result_destroy);
void g_task_return_boolean (GTask *task, gboolean result);
void g_task_return_int (GTask *task, gssize result);
void g_task_return_error (GTask *task, GError *error);
gpointer g_task_propagate_pointer (GTask *task, GError **error);
gboolean g_task_propagate_boolean (GTask *task, GError **error);
gssize g_task_propagate_int (GTask *task, GError **error);

#define NF_TSAN_THREAD_FUNC "nf-tsan-thread-func"

static void
task_thread (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
	GTaskThreadFunc task_func =
		(GTaskThreadFunc) g_object_get_data (G_OBJECT (task), NF_TSAN_THREAD_FUNC);

	__tsan_acquire (task);
	task_func (task, source_object, task_data, cancellable);
}

void
nf_tsan_task_run_in_thread (GTask *task, GTaskThreadFunc task_func)
{
	g_object_set_data (G_OBJECT (task), NF_TSAN_THREAD_FUNC, (gpointer) task_func);
	__tsan_release (task);
	g_task_run_in_thread (task, task_thread);
}

void
nf_tsan_task_return_pointer (GTask *task, gpointer result, GDestroyNotify result_destroy)
{
	__tsan_release (task);
	g_task_return_pointer (task, result, result_destroy);
}

void
nf_tsan_task_return_boolean (GTask *task, gboolean result)
{
	__tsan_release (task);
	g_task_return_boolean (task, result);
}

void
nf_tsan_task_return_int (GTask *task, gssize result)
{
	__tsan_release (task);
	g_task_return_int (task, result);
}

void
nf_tsan_task_return_error (GTask *task, GError *error)
{
	__tsan_release (task);
	g_task_return_error (task, error);
}

void
nf_tsan_task_return_new_error (GTask *task, GQuark domain, gint code, const char *format, ...)
{
	GError *error;
	va_list args;

	va_start (args, format);
	error = g_error_new_valist (domain, code, format, args);
	va_end (args);
	__tsan_release (task);
	g_task_return_error (task, error);
}

gpointer
nf_tsan_task_propagate_pointer (GTask *task, GError **error)
{
	__tsan_acquire (task);
	return g_task_propagate_pointer (task, error);
}

gboolean
nf_tsan_task_propagate_boolean (GTask *task, GError **error)
{
	__tsan_acquire (task);
	return g_task_propagate_boolean (task, error);
}

gssize
nf_tsan_task_propagate_int (GTask *task, GError **error)
{
	__tsan_acquire (task);
	return g_task_propagate_int (task, error);
}
