/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-libvirt"

#include "config.h"

#include <glib-unix.h>
#include <libvirt/libvirt.h>

#include "nestfarm/nf-tsan.h"
#include "nf-libvirt-private.h"

/* libvirt's event loop, on a GMainContext of its own run by one thread.
 * libvirt's default implementation (virEventRegisterDefaultImpl) attaches
 * its sources to GLib's global default context and virEventRunDefaultImpl
 * iterates that context: the very one the daemon's main loop runs, so
 * both threads would fight over it and D-Bus callbacks could run in the
 * event thread. Hence this small implementation of virEventRegisterImpl. */

typedef struct {
	gint id;
	gboolean is_handle;
	gint fd;
	gint events;   /* handles: VIR_EVENT_HANDLE_* */
	gint interval; /* timers: ms; 0 fires on every iteration, -1 is off */
	GSource *source;
	virEventHandleCallback handle_cb;
	virEventTimeoutCallback timeout_cb;
	void *opaque;
	virFreeCallback ff;
	gboolean removed;
} NfEventSource;

static GMainContext *event_context;
static GMutex event_lock;
static GHashTable *event_sources; /* id -> NfEventSource */
static gint event_last_id;

static GIOCondition
condition_from_events (gint events)
{
	GIOCondition condition = 0;

	if (events & VIR_EVENT_HANDLE_READABLE)
		condition |= G_IO_IN;
	if (events & VIR_EVENT_HANDLE_WRITABLE)
		condition |= G_IO_OUT;
	/* poll reports these whether asked or not; libvirt wants to hear. */
	return condition | G_IO_HUP | G_IO_ERR;
}

static gint
events_from_condition (GIOCondition condition)
{
	gint events = 0;

	if (condition & G_IO_IN)
		events |= VIR_EVENT_HANDLE_READABLE;
	if (condition & G_IO_OUT)
		events |= VIR_EVENT_HANDLE_WRITABLE;
	if (condition & G_IO_HUP)
		events |= VIR_EVENT_HANDLE_HANGUP;
	if (condition & (G_IO_ERR | G_IO_NVAL))
		events |= VIR_EVENT_HANDLE_ERROR;
	return events;
}

/* Dispatches copy the callback under the lock and call it without: a
 * removal meanwhile defers ff to an idle of this same thread, so opaque
 * outlives the call. */
static gboolean
on_handle_ready (gint fd, GIOCondition condition, gpointer data)
{
	NfEventSource *source = data;
	virEventHandleCallback cb;
	void *opaque;
	gint id;

	g_mutex_lock (&event_lock);
	cb = source->removed ? NULL : source->handle_cb;
	opaque = source->opaque;
	id = source->id;
	g_mutex_unlock (&event_lock);
	if (cb == NULL)
		return G_SOURCE_REMOVE;
	cb (id, fd, events_from_condition (condition), opaque);
	return G_SOURCE_CONTINUE;
}

static gboolean
on_timer (gpointer data)
{
	NfEventSource *source = data;
	virEventTimeoutCallback cb;
	void *opaque;
	gint id;

	g_mutex_lock (&event_lock);
	cb = source->removed ? NULL : source->timeout_cb;
	opaque = source->opaque;
	id = source->id;
	g_mutex_unlock (&event_lock);
	if (cb == NULL)
		return G_SOURCE_REMOVE;
	cb (id, opaque);
	return G_SOURCE_CONTINUE;
}

/* With event_lock held: replaces the GSource to match the settings. */
static void
source_rearm (NfEventSource *source)
{
	if (source->source != NULL) {
		g_source_destroy (source->source);
		g_clear_pointer (&source->source, g_source_unref);
	}
	if (source->is_handle) {
		if (source->events == 0)
			return;
		source->source = g_unix_fd_source_new (source->fd, condition_from_events (source->events));
		g_source_set_callback (source->source, G_SOURCE_FUNC (on_handle_ready), source, NULL);
		g_source_set_static_name (source->source, "[nf-libvirt] handle");
	} else {
		if (source->interval < 0)
			return;
		source->source = source->interval == 0 ? g_idle_source_new ()
						       : g_timeout_source_new ((guint) source->interval);
		g_source_set_callback (source->source, on_timer, source, NULL);
		g_source_set_static_name (source->source, "[nf-libvirt] timer");
	}
	g_source_attach (source->source, event_context);
}

static gint
source_add (NfEventSource *source)
{
	g_mutex_lock (&event_lock);
	source->id = ++event_last_id;
	g_hash_table_insert (event_sources, GINT_TO_POINTER (source->id), source);
	source_rearm (source);
	g_mutex_unlock (&event_lock);
	return source->id;
}

static void
source_update (gint id, gboolean is_handle, gint value)
{
	NfEventSource *source;

	g_mutex_lock (&event_lock);
	source = g_hash_table_lookup (event_sources, GINT_TO_POINTER (id));
	/* A timer is restarted even with the same interval, as libvirt's own
	 * loop does; a handle's watch only changes with its events. */
	if (source != NULL && source->is_handle == is_handle && !(is_handle && source->events == value)) {
		if (is_handle)
			source->events = value;
		else
			source->interval = value;
		source_rearm (source);
	}
	g_mutex_unlock (&event_lock);
}

static gboolean
source_release (gpointer data)
{
	NfEventSource *source = data;

	NF_TSAN_ACQUIRE (source);
	if (source->ff != NULL)
		source->ff (source->opaque);
	g_free (source);
	return G_SOURCE_REMOVE;
}

static gint
source_remove (gint id, gboolean is_handle)
{
	g_autoptr (GSource) release = NULL;
	NfEventSource *source;

	g_mutex_lock (&event_lock);
	source = g_hash_table_lookup (event_sources, GINT_TO_POINTER (id));
	if (source == NULL || source->is_handle != is_handle) {
		g_mutex_unlock (&event_lock);
		return -1;
	}
	g_hash_table_remove (event_sources, GINT_TO_POINTER (id));
	source->removed = TRUE;
	source->events = 0;
	source->interval = -1;
	source_rearm (source);
	g_mutex_unlock (&event_lock);

	/* The caller may hold libvirt's locks: ff runs later, on a clean
	 * stack in the event thread. */
	release = g_idle_source_new ();
	g_source_set_callback (release, source_release, source, NULL);
	g_source_set_static_name (release, "[nf-libvirt] release");
	NF_TSAN_RELEASE (source);
	g_source_attach (release, event_context);
	return 0;
}

static int
add_handle (int fd, int events, virEventHandleCallback cb, void *opaque, virFreeCallback ff)
{
	NfEventSource *source = g_new0 (NfEventSource, 1);

	source->is_handle = TRUE;
	source->fd = fd;
	source->events = events;
	source->handle_cb = cb;
	source->opaque = opaque;
	source->ff = ff;
	return source_add (source);
}

static void
update_handle (int watch, int events)
{
	source_update (watch, TRUE, events);
}

static int
remove_handle (int watch)
{
	return source_remove (watch, TRUE);
}

static int
add_timeout (int interval, virEventTimeoutCallback cb, void *opaque, virFreeCallback ff)
{
	NfEventSource *source = g_new0 (NfEventSource, 1);

	source->is_handle = FALSE;
	source->fd = -1;
	source->interval = interval;
	source->timeout_cb = cb;
	source->opaque = opaque;
	source->ff = ff;
	return source_add (source);
}

static void
update_timeout (int timer, int interval)
{
	source_update (timer, FALSE, interval);
}

static int
remove_timeout (int timer)
{
	return source_remove (timer, FALSE);
}

static gpointer
event_loop_run (gpointer data)
{
	g_main_context_push_thread_default (event_context);
	for (;;)
		g_main_context_iteration (event_context, TRUE);
	return NULL;
}

static gpointer
event_loop_start (gpointer data)
{
	event_context = g_main_context_new ();
	event_sources = g_hash_table_new (g_direct_hash, g_direct_equal);
	virEventRegisterImpl (add_handle,
			      update_handle,
			      remove_handle,
			      add_timeout,
			      update_timeout,
			      remove_timeout);
	g_thread_unref (g_thread_new ("nf-libvirt-events", event_loop_run, NULL));
	return NULL;
}

void
nf_libvirt_events_start (void)
{
	static GOnce once = G_ONCE_INIT;

	g_once (&once, event_loop_start, NULL);
}
