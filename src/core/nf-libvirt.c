/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-libvirt"

#include "config.h"

#include <signal.h>
#include <stdarg.h>

#include "nestfarm/nf-error.h"
#include "nestfarm/nf-libvirt.h"
#include "nestfarm/nf-limits.h"
#include "nestfarm/nf-tsan.h"
#include "nf-libvirt-private.h"
#include "nf-schema-gate-private.h"

/* libvirt's errors made GErrors, in one function; NfConnection: the connection
 * with keepalive, close callback, reconnection and domain lifecycle signals. */

/* libvirtd is declared dead after 5 s * (3 + 1) without an answer. */
#define NF_KEEPALIVE_INTERVAL_S 5
#define NF_KEEPALIVE_COUNT      3

#define NF_RECONNECT_FIRST_MS 500
#define NF_RECONNECT_MAX_MS   30000

/* libvirtd serves at most max_client_requests (5 by default) calls of one
 * connection at a time, so parallel work over one connection queues behind
 * it: next to the main connection (events, close watch) a link keeps spare
 * connections for calls only, handed out in turn. 4 x 5 calls matches
 * libvirtd's default of 20 workers. */
#define NF_SPARE_CONNECTIONS 3

/* ---- errors ------------------------------------------------------------ */

static NfError
error_code_from_libvirt (gint code)
{
	switch (code) {
	case VIR_ERR_NO_DOMAIN:
	case VIR_ERR_NO_STORAGE_VOL:
	case VIR_ERR_NO_STORAGE_POOL:
	case VIR_ERR_NO_NETWORK:
	case VIR_ERR_NO_DOMAIN_SNAPSHOT:
		return NF_ERROR_NOT_FOUND;
	case VIR_ERR_DOM_EXIST:
	case VIR_ERR_STORAGE_VOL_EXIST:
	case VIR_ERR_NETWORK_EXIST:
		return NF_ERROR_EXISTS;
	/* "cannot acquire state change lock": another job holds the domain. */
	case VIR_ERR_OPERATION_TIMEOUT:
		return NF_ERROR_BUSY;
	/* a CPU (a node's, a baseline) this host cannot run: the request's */
	case VIR_ERR_CPU_INCOMPATIBLE:
		return NF_ERROR_INVALID_ARGUMENT;
	default:
		return NF_ERROR_LIBVIRT;
	}
}

gboolean
nf_libvirt_set_error (GError **error, const gchar *what, ...)
{
	virErrorPtr last = virGetLastError ();
	g_autofree gchar *doing = NULL;
	va_list args;

	va_start (args, what);
	doing = g_strdup_vprintf (what, args);
	va_end (args);

	if (last == NULL || last->code == VIR_ERR_OK) {
		g_set_error (error, NF_ERROR, NF_ERROR_LIBVIRT, "%s: libvirt gave no reason", doing);
	} else {
		g_set_error (error,
			     NF_ERROR,
			     error_code_from_libvirt (last->code),
			     "%s: %s",
			     doing,
			     last->message != NULL ? last->message : "unknown libvirt error");
	}
	virResetLastError ();
	return FALSE;
}

static void
silent_error_handler (void *data, virErrorPtr error)
{
	/* Errors reach the caller through nf_libvirt_set_error, not stderr. */
}

void
nf_libvirt_init (void)
{
	static gsize done = 0;

	if (!g_once_init_enter (&done))
		return;
	if (virInitialize () < 0)
		g_warning ("libvirt failed to initialise");
	/* libvirt's client writes to its sockets with write(2): a libvirtd
	 * that went away between a check and a write (a restart, a keepalive
	 * on a connection being closed) would kill the whole process with
	 * SIGPIPE instead of failing that call. */
	signal (SIGPIPE, SIG_IGN);
	virSetErrorFunc (NULL, silent_error_handler);
	/* Keepalive and events need it, before the first connection. */
	nf_libvirt_events_start ();
	g_once_init_leave (&done, 1);
}

/* ---- the link: state shared with libvirt's callbacks ------------------- */

/* Reference-counted apart from the GObject: libvirt may still run a
 * lifecycle callback after it was deregistered, so that callback and each
 * queued signal hold the link, and the link reaches the object only
 * through a weak reference. The object is thus never finalised in
 * libvirt's threads. */
typedef struct {
	gchar *uri;
	GMainContext *context; /* the owner's, where signals are emitted */
	GWeakRef owner;

	GMutex lock;
	GCond cond;
	virConnectPtr conn;   /* owned; NULL while disconnected */
	guint64 generation;   /* of conn: grows with each connection */
	NfSchemaGate *schema; /* own lock; never taken inside ours */
	gint lifecycle_id;    /* -1: not registered */
	gint agent_id;        /* the guest agent's events; -1: not registered */
	gboolean alive;
	gboolean reconnect_wanted;
	gboolean stopping;
	GThread *supervisor;

	/* Spares: opened by the supervisor once conn is up (only where there
	 * is a libvirtd to talk to: in-process drivers such as test:/// keep
	 * their state per connection), closed with conn. A spare that libvirt
	 * closes is marked dead by on_spare_close and opened again by the
	 * supervisor; until then calls go to the others. */
	gboolean has_peer;
	gboolean spares_wanted;
	virConnectPtr spares[NF_SPARE_CONNECTIONS]; /* owned, NULL when not open */
	gboolean spare_alive[NF_SPARE_CONNECTIONS];
	guint turn; /* the next of conn and the spares to hand out */
} NfLink;

static void
link_clear (gpointer data)
{
	NfLink *link = data;

	g_assert (link->conn == NULL);
	g_assert (link->supervisor == NULL);
	for (guint i = 0; i < NF_SPARE_CONNECTIONS; i++)
		g_assert (link->spares[i] == NULL);
	g_free (link->uri);
	g_main_context_unref (link->context);
	g_weak_ref_clear (&link->owner);
	nf_schema_gate_free (link->schema);
	g_mutex_clear (&link->lock);
	g_cond_clear (&link->cond);
}

static NfLink *
link_ref (NfLink *link)
{
	return g_atomic_rc_box_acquire (link);
}

static void
link_unref (gpointer data)
{
	g_atomic_rc_box_release_full (data, link_clear);
}

static NfLink *
link_new (const gchar *uri, GObject *owner)
{
	NfLink *link = g_atomic_rc_box_new0 (NfLink);

	link->uri = g_strdup (uri);
	link->context = g_main_context_ref_thread_default ();
	g_weak_ref_init (&link->owner, owner);
	g_mutex_init (&link->lock);
	g_cond_init (&link->cond);
	link->lifecycle_id = -1;
	link->agent_id = -1;
	link->schema = nf_schema_gate_new ();
	return link;
}

typedef enum {
	NOTICE_CONNECTED,
	NOTICE_DISCONNECTED,
	NOTICE_DOMAIN_EVENT,
	NOTICE_AGENT_EVENT,
} NfNoticeKind;

typedef struct {
	NfLink *link;
	NfNoticeKind kind;
	gchar *name;
	gchar *uuid;
	gint event;
	gint detail;
} NfNotice;

static void
notice_free (gpointer data)
{
	NfNotice *notice = data;

	link_unref (notice->link);
	g_free (notice->name);
	g_free (notice->uuid);
	g_free (notice);
}

static gboolean notice_deliver (gpointer data);

/* Idle sources of one priority run in the order they were attached, so
 * "disconnected" always precedes the "connected" that follows it. */
static void
link_post (NfLink *link, NfNotice *notice)
{
	g_autoptr (GSource) source = g_idle_source_new ();

	notice->link = link_ref (link);
	g_source_set_priority (source, G_PRIORITY_DEFAULT);
	g_source_set_callback (source, notice_deliver, notice, notice_free);
	g_source_set_static_name (source, "[nf-libvirt] notice");
	NF_TSAN_RELEASE (notice);
	g_source_attach (source, link->context);
}

static void
link_post_state (NfLink *link, NfNoticeKind kind)
{
	NfNotice *notice = g_new0 (NfNotice, 1);

	notice->kind = kind;
	link_post (link, notice);
}

/* Queues a notice about @domain for the owner's context. */
static void
post_domain_notice (NfLink *link, virDomainPtr domain, NfNoticeKind kind, gint event, gint detail)
{
	NfNotice *notice = g_new0 (NfNotice, 1);
	char uuid[VIR_UUID_STRING_BUFLEN] = "";

	if (virDomainGetUUIDString (domain, uuid) < 0)
		virResetLastError ();
	notice->kind = kind;
	notice->name = g_strdup (virDomainGetName (domain));
	notice->uuid = g_strdup (uuid);
	notice->event = event;
	notice->detail = detail;
	link_post (link, notice);
}

static int
on_lifecycle (virConnectPtr conn, virDomainPtr domain, int event, int detail, void *opaque)
{
	post_domain_notice (opaque, domain, NOTICE_DOMAIN_EVENT, event, detail);
	return 0;
}

/* The guest agent of a domain connected or went away (its channel's
 * state, which QEMU reports when the agent opens or closes it). */
static int
on_agent (virConnectPtr conn, virDomainPtr domain, int state, int reason, void *opaque)
{
	post_domain_notice (opaque,
			    domain,
			    NOTICE_AGENT_EVENT,
			    state == VIR_CONNECT_DOMAIN_EVENT_AGENT_LIFECYCLE_STATE_CONNECTED,
			    reason);
	return 0;
}

static const gchar *
close_reason_to_string (gint reason)
{
	switch (reason) {
	case VIR_CONNECT_CLOSE_REASON_ERROR:
		return "I/O error";
	case VIR_CONNECT_CLOSE_REASON_EOF:
		return "libvirtd closed it";
	case VIR_CONNECT_CLOSE_REASON_KEEPALIVE:
		return "keepalive timed out";
	case VIR_CONNECT_CLOSE_REASON_CLIENT:
		return "closed by us";
	default:
		return "unknown reason";
	}
}

/* May run in libvirt's event thread or in a thread doing an RPC: only
 * flags the supervisor, which does the slow work. */
static void
on_close (virConnectPtr conn, int reason, void *opaque)
{
	NfLink *link = opaque;
	gboolean ours;

	g_mutex_lock (&link->lock);
	ours = link->conn == conn;
	if (ours) {
		link->alive = FALSE;
		link->reconnect_wanted = TRUE;
		g_cond_broadcast (&link->cond);
	}
	g_mutex_unlock (&link->lock);
	if (ours)
		g_message ("lost the connection to %s: %s", link->uri, close_reason_to_string (reason));
}

static void on_spare_close (virConnectPtr conn, int reason, void *opaque);

static void
spare_close (virConnectPtr conn)
{
	if (virConnectUnregisterCloseCallback (conn, on_spare_close) < 0)
		virResetLastError ();
	if (virConnectClose (conn) < 0)
		virResetLastError ();
}

/* Detaches the connection and its spares from the link and closes them.
 * Never called with the lock held: libvirt calls on_close under its own
 * lock. */
static void
link_take_down (NfLink *link)
{
	virConnectPtr conn;
	virConnectPtr spares[NF_SPARE_CONNECTIONS];
	gint lifecycle_id;
	gint agent_id;

	g_mutex_lock (&link->lock);
	conn = g_steal_pointer (&link->conn);
	lifecycle_id = link->lifecycle_id;
	link->lifecycle_id = -1;
	agent_id = link->agent_id;
	link->agent_id = -1;
	link->alive = FALSE;
	link->spares_wanted = FALSE;
	for (guint i = 0; i < NF_SPARE_CONNECTIONS; i++) {
		spares[i] = g_steal_pointer (&link->spares[i]);
		link->spare_alive[i] = FALSE;
	}
	g_mutex_unlock (&link->lock);
	for (guint i = 0; i < NF_SPARE_CONNECTIONS; i++) {
		if (spares[i] != NULL)
			spare_close (spares[i]);
	}
	if (conn == NULL)
		return;

	/* On a dead connection these fail after the local part is done; and
	 * libvirt drops the close callback by itself once it has fired. */
	if (lifecycle_id >= 0 && virConnectDomainEventDeregisterAny (conn, lifecycle_id) < 0)
		virResetLastError ();
	if (agent_id >= 0 && virConnectDomainEventDeregisterAny (conn, agent_id) < 0)
		virResetLastError ();
	if (virConnectUnregisterCloseCallback (conn, on_close) < 0)
		virResetLastError ();
	if (virConnectClose (conn) < 0)
		virResetLastError ();
}

static gboolean
keepalive_unsupported (void)
{
	virErrorPtr last = virGetLastError ();

	return last != NULL && last->code == VIR_ERR_NO_SUPPORT;
}

/* Opens @uri with keepalive. *@has_peer: FALSE for in-process drivers
 * (test:///), which have no libvirtd to probe. */
static virConnectPtr
open_with_keepalive (const gchar *uri, gboolean *has_peer, GError **error)
{
	virConnectPtr conn = virConnectOpen (uri);

	if (conn == NULL) {
		nf_libvirt_set_error (error, "cannot connect to libvirt at %s", uri);
		return NULL;
	}
	*has_peer = TRUE;
	if (virConnectSetKeepAlive (conn, NF_KEEPALIVE_INTERVAL_S, NF_KEEPALIVE_COUNT) < 0) {
		if (!keepalive_unsupported ()) {
			nf_libvirt_set_error (error, "cannot set keepalive on %s", uri);
			virConnectClose (conn);
			return NULL;
		}
		virResetLastError ();
		*has_peer = FALSE;
	}
	return conn;
}

/* Subscribes @link to the lifecycle and guest agent events of @conn; on
 * failure neither is left registered. */
static gboolean
link_subscribe (NfLink *link, virConnectPtr conn, gint *lifecycle_id, gint *agent_id, GError **error)
{
	*lifecycle_id = virConnectDomainEventRegisterAny (conn,
							  NULL,
							  VIR_DOMAIN_EVENT_ID_LIFECYCLE,
							  VIR_DOMAIN_EVENT_CALLBACK (on_lifecycle),
							  link_ref (link),
							  link_unref);
	if (*lifecycle_id < 0) {
		nf_libvirt_set_error (error, "cannot subscribe to domain events on %s", link->uri);
		link_unref (link);
		return FALSE;
	}
	*agent_id = virConnectDomainEventRegisterAny (conn,
						      NULL,
						      VIR_DOMAIN_EVENT_ID_AGENT_LIFECYCLE,
						      VIR_DOMAIN_EVENT_CALLBACK (on_agent),
						      link_ref (link),
						      link_unref);
	if (*agent_id < 0) {
		nf_libvirt_set_error (error, "cannot subscribe to guest agent events on %s", link->uri);
		link_unref (link);
		if (virConnectDomainEventDeregisterAny (conn, *lifecycle_id) < 0)
			virResetLastError ();
		return FALSE;
	}
	return TRUE;
}

/* One attempt: open, keepalive, close callback, domain events. */
static gboolean
link_connect (NfLink *link, GError **error)
{
	virConnectPtr conn;
	gint lifecycle_id;
	gint agent_id;
	gboolean alive;
	gboolean has_peer;

	conn = open_with_keepalive (link->uri, &has_peer, error);
	if (conn == NULL)
		return FALSE;

	/* Published (not yet alive) before the close callback exists, so a
	 * connection that dies while being set up is noticed by on_close. */
	g_mutex_lock (&link->lock);
	g_assert (link->conn == NULL);
	link->conn = conn;
	link->generation++;
	link->reconnect_wanted = FALSE;
	g_mutex_unlock (&link->lock);

	/* No reference for libvirt here: drivers without close callbacks
	 * (test:///) accept the registration and never call freecb. The
	 * link outlives it anyway: link_take_down unregisters it first. */
	if (virConnectRegisterCloseCallback (conn, on_close, link, NULL) < 0) {
		nf_libvirt_set_error (error, "cannot watch the connection to %s", link->uri);
		link_take_down (link);
		return FALSE;
	}
	if (!link_subscribe (link, conn, &lifecycle_id, &agent_id, error)) {
		link_take_down (link);
		return FALSE;
	}

	g_mutex_lock (&link->lock);
	link->lifecycle_id = lifecycle_id;
	link->agent_id = agent_id;
	alive = !link->reconnect_wanted;
	link->alive = alive;
	link->has_peer = has_peer;
	link->spares_wanted = alive && has_peer;
	g_cond_broadcast (&link->cond);
	g_mutex_unlock (&link->lock);
	/* If it died meanwhile the supervisor reconnects at once. */
	if (alive)
		link_post_state (link, NOTICE_CONNECTED);
	return TRUE;
}

/* Waits up to @delay_ms; FALSE when asked to stop. */
static gboolean
link_backoff (NfLink *link, guint delay_ms)
{
	gint64 deadline = g_get_monotonic_time () + delay_ms * G_TIME_SPAN_MILLISECOND;
	gboolean stopping;

	g_mutex_lock (&link->lock);
	while (!link->stopping && g_cond_wait_until (&link->cond, &link->lock, deadline))
		;
	stopping = link->stopping;
	g_mutex_unlock (&link->lock);
	return !stopping;
}

static void
link_reconnect (NfLink *link)
{
	guint delay_ms = NF_RECONNECT_FIRST_MS;
	guint attempt = 0;

	do {
		g_autoptr (GError) error = NULL;

		attempt++;
		if (link_connect (link, &error)) {
			g_message ("connected again to %s after %u attempts", link->uri, attempt);
			return;
		}
		g_debug ("%s; next attempt in %u ms", error->message, delay_ms);
		if (!link_backoff (link, delay_ms))
			return;
		delay_ms = MIN (delay_ms * 2, NF_RECONNECT_MAX_MS);
	} while (TRUE);
}

/* May run in libvirt's event thread or in a thread doing an RPC: marks
 * the spare dead (no more calls go to it) and wakes the supervisor. */
static void
on_spare_close (virConnectPtr conn, int reason, void *opaque)
{
	NfLink *link = opaque;
	gboolean ours = FALSE;

	g_mutex_lock (&link->lock);
	for (guint i = 0; i < NF_SPARE_CONNECTIONS; i++) {
		if (link->spares[i] == conn && link->spare_alive[i]) {
			link->spare_alive[i] = FALSE;
			link->spares_wanted = TRUE;
			g_cond_broadcast (&link->cond);
			ours = TRUE;
		}
	}
	g_mutex_unlock (&link->lock);
	if (ours)
		g_debug ("lost a spare connection to %s: %s", link->uri, close_reason_to_string (reason));
}

/* Whether spare @i of the connection of @generation is still to be opened. */
static gboolean
spare_needed (NfLink *link, guint i, guint64 generation)
{
	return link->alive && !link->stopping && !link->reconnect_wanted && link->generation == generation &&
	       link->spares[i] == NULL;
}

/* Closes the dead spares and opens the missing ones, in the supervisor.
 * A spare that cannot be opened is left out until the next loss: calls go
 * to the connections there are. */
static void
link_renew_spares (NfLink *link)
{
	virConnectPtr dead[NF_SPARE_CONNECTIONS] = {NULL};
	guint64 generation;

	g_mutex_lock (&link->lock);
	generation = link->generation;
	for (guint i = 0; i < NF_SPARE_CONNECTIONS; i++) {
		if (link->spares[i] != NULL && !link->spare_alive[i])
			dead[i] = g_steal_pointer (&link->spares[i]);
	}
	g_mutex_unlock (&link->lock);
	for (guint i = 0; i < NF_SPARE_CONNECTIONS; i++) {
		if (dead[i] != NULL)
			spare_close (dead[i]);
	}

	for (guint i = 0; i < NF_SPARE_CONNECTIONS; i++) {
		g_autoptr (GError) error = NULL;
		virConnectPtr conn;
		gboolean has_peer;
		gboolean installed;

		g_mutex_lock (&link->lock);
		installed = !spare_needed (link, i, generation);
		g_mutex_unlock (&link->lock);
		if (installed)
			continue;
		conn = open_with_keepalive (link->uri, &has_peer, &error);
		if (conn == NULL) {
			g_message ("working with fewer connections to %s: %s", link->uri, error->message);
			return;
		}
		g_mutex_lock (&link->lock);
		installed = spare_needed (link, i, generation);
		if (installed) {
			link->spares[i] = conn;
			link->spare_alive[i] = TRUE;
		}
		g_mutex_unlock (&link->lock);
		if (!installed) {
			virConnectClose (conn);
			continue;
		}
		/* No libvirt call under our lock: libvirt calls on_spare_close
		 * with its own locks held. Watched first, then checked: a loss
		 * before the watch shows here, one after it in the callback. */
		if (virConnectRegisterCloseCallback (conn, on_spare_close, link, NULL) < 0 ||
		    virConnectIsAlive (conn) != 1) {
			virResetLastError ();
			g_mutex_lock (&link->lock);
			/* Left out until the next loss: reopening at once could
			 * spin against a libvirtd that keeps refusing. */
			if (link->spares[i] == conn)
				link->spare_alive[i] = FALSE;
			g_mutex_unlock (&link->lock);
		}
	}
}

/* The link's own thread: reconnects whenever the connection is lost and
 * keeps the spares open, so no owner's main context ever waits for
 * libvirtd. */
static gpointer
link_supervise (gpointer data)
{
	NfLink *link = data;

	g_mutex_lock (&link->lock);
	for (;;) {
		while (!link->stopping && !link->reconnect_wanted && !link->spares_wanted)
			g_cond_wait (&link->cond, &link->lock);
		if (link->stopping)
			break;
		if (!link->reconnect_wanted) {
			link->spares_wanted = FALSE;
			g_mutex_unlock (&link->lock);
			link_renew_spares (link);
			g_mutex_lock (&link->lock);
			continue;
		}
		link->reconnect_wanted = FALSE;
		g_mutex_unlock (&link->lock);

		link_post_state (link, NOTICE_DISCONNECTED);
		link_take_down (link);
		link_reconnect (link);

		g_mutex_lock (&link->lock);
	}
	g_mutex_unlock (&link->lock);
	link_unref (link);
	return NULL;
}

static void
link_stop (NfLink *link, gboolean notify)
{
	GThread *supervisor;
	gboolean was_alive;

	g_mutex_lock (&link->lock);
	link->stopping = TRUE;
	g_cond_broadcast (&link->cond);
	supervisor = g_steal_pointer (&link->supervisor);
	g_mutex_unlock (&link->lock);
	if (supervisor != NULL)
		g_thread_join (supervisor);

	g_mutex_lock (&link->lock);
	was_alive = link->alive;
	g_mutex_unlock (&link->lock);
	link_take_down (link);
	if (was_alive && notify)
		link_post_state (link, NOTICE_DISCONNECTED);

	g_mutex_lock (&link->lock);
	link->stopping = FALSE;
	link->reconnect_wanted = FALSE;
	g_mutex_unlock (&link->lock);
}

/* ---- NfConnection ------------------------------------------------------ */

struct _NfConnection {
	GObject parent_instance;
	GMutex control; /* serialises open and close */
	gchar *uri;
	NfLink *link;
};

enum {
	PROP_0,
	PROP_URI,
	N_PROPS,
};

enum {
	SIGNAL_DOMAIN_EVENT,
	SIGNAL_CONNECTED,
	SIGNAL_DISCONNECTED,
	SIGNAL_AGENT_EVENT,
	N_SIGNALS,
};

static GParamSpec *props[N_PROPS];
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (NfConnection, nf_connection, G_TYPE_OBJECT)

/* Runs on the owner's context; the object may be gone by then. */
static gboolean
notice_deliver (gpointer data)
{
	NfNotice *notice = data;
	g_autoptr (NfConnection) self = NULL;

	NF_TSAN_ACQUIRE (notice);
	self = g_weak_ref_get (&notice->link->owner);
	if (self == NULL)
		return G_SOURCE_REMOVE;
	switch (notice->kind) {
	case NOTICE_CONNECTED:
		g_signal_emit (self, signals[SIGNAL_CONNECTED], 0);
		break;
	case NOTICE_DISCONNECTED:
		g_signal_emit (self, signals[SIGNAL_DISCONNECTED], 0);
		break;
	case NOTICE_DOMAIN_EVENT:
		g_signal_emit (self,
			       signals[SIGNAL_DOMAIN_EVENT],
			       0,
			       notice->name,
			       notice->uuid,
			       notice->event,
			       notice->detail);
		break;
	case NOTICE_AGENT_EVENT:
		g_signal_emit (self,
			       signals[SIGNAL_AGENT_EVENT],
			       0,
			       notice->name,
			       notice->uuid,
			       (gboolean) notice->event);
		break;
	default:
		g_assert_not_reached ();
	}
	return G_SOURCE_REMOVE;
}

static void
nf_connection_constructed (GObject *object)
{
	NfConnection *self = NF_CONNECTION (object);

	G_OBJECT_CLASS (nf_connection_parent_class)->constructed (object);
	if (self->uri == NULL)
		self->uri = g_strdup (NF_DEFAULT_LIBVIRT_URI);
	self->link = link_new (self->uri, object);
}

static void
nf_connection_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
	NfConnection *self = NF_CONNECTION (object);

	switch (prop_id) {
	case PROP_URI:
		g_value_set_string (value, self->uri);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
	}
}

static void
nf_connection_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
	NfConnection *self = NF_CONNECTION (object);

	switch (prop_id) {
	case PROP_URI:
		g_free (self->uri);
		self->uri = g_value_dup_string (value);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
	}
}

static void
nf_connection_dispose (GObject *object)
{
	NfConnection *self = NF_CONNECTION (object);

	if (self->link != NULL) {
		g_mutex_lock (&self->control);
		link_stop (self->link, FALSE);
		g_mutex_unlock (&self->control);
		g_weak_ref_set (&self->link->owner, NULL);
		g_clear_pointer (&self->link, link_unref);
	}
	G_OBJECT_CLASS (nf_connection_parent_class)->dispose (object);
}

static void
nf_connection_finalize (GObject *object)
{
	NfConnection *self = NF_CONNECTION (object);

	g_free (self->uri);
	g_mutex_clear (&self->control);
	G_OBJECT_CLASS (nf_connection_parent_class)->finalize (object);
}

static void
nf_connection_class_init (NfConnectionClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS (klass);

	object_class->constructed = nf_connection_constructed;
	object_class->get_property = nf_connection_get_property;
	object_class->set_property = nf_connection_set_property;
	object_class->dispose = nf_connection_dispose;
	object_class->finalize = nf_connection_finalize;

	props[PROP_URI] =
		g_param_spec_string ("uri",
				     NULL,
				     NULL,
				     NULL,
				     G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
	g_object_class_install_properties (object_class, N_PROPS, props);

	signals[SIGNAL_DOMAIN_EVENT] = g_signal_new ("domain-event",
						     G_TYPE_FROM_CLASS (klass),
						     G_SIGNAL_RUN_LAST,
						     0,
						     NULL,
						     NULL,
						     NULL,
						     G_TYPE_NONE,
						     4,
						     G_TYPE_STRING,
						     G_TYPE_STRING,
						     G_TYPE_INT,
						     G_TYPE_INT);
	signals[SIGNAL_AGENT_EVENT] = g_signal_new ("agent-event",
						    G_TYPE_FROM_CLASS (klass),
						    G_SIGNAL_RUN_LAST,
						    0,
						    NULL,
						    NULL,
						    NULL,
						    G_TYPE_NONE,
						    3,
						    G_TYPE_STRING,
						    G_TYPE_STRING,
						    G_TYPE_BOOLEAN);
	signals[SIGNAL_CONNECTED] = g_signal_new ("connected",
						  G_TYPE_FROM_CLASS (klass),
						  G_SIGNAL_RUN_LAST,
						  0,
						  NULL,
						  NULL,
						  NULL,
						  G_TYPE_NONE,
						  0);
	signals[SIGNAL_DISCONNECTED] = g_signal_new ("disconnected",
						     G_TYPE_FROM_CLASS (klass),
						     G_SIGNAL_RUN_LAST,
						     0,
						     NULL,
						     NULL,
						     NULL,
						     G_TYPE_NONE,
						     0);
}

static void
nf_connection_init (NfConnection *self)
{
	g_mutex_init (&self->control);
}

NfConnection *
nf_connection_new (const gchar *uri)
{
	return g_object_new (NF_TYPE_CONNECTION, "uri", uri, NULL);
}

const gchar *
nf_connection_get_uri (NfConnection *self)
{
	g_return_val_if_fail (NF_IS_CONNECTION (self), NULL);
	return self->uri;
}

gboolean
nf_connection_open (NfConnection *self, GError **error)
{
	g_autoptr (GMutexLocker) locker = NULL;
	NfLink *link;
	gboolean opened;

	g_return_val_if_fail (NF_IS_CONNECTION (self), FALSE);

	nf_libvirt_init ();
	locker = g_mutex_locker_new (&self->control);
	link = self->link;

	g_mutex_lock (&link->lock);
	opened = link->supervisor != NULL;
	g_mutex_unlock (&link->lock);
	if (opened)
		return TRUE;

	if (!link_connect (link, error))
		return FALSE;
	g_mutex_lock (&link->lock);
	link->supervisor = g_thread_new ("nf-libvirt-link", link_supervise, link_ref (link));
	g_mutex_unlock (&link->lock);
	return TRUE;
}

gboolean
nf_connection_is_alive (NfConnection *self)
{
	gboolean alive;

	g_return_val_if_fail (NF_IS_CONNECTION (self), FALSE);
	g_mutex_lock (&self->link->lock);
	alive = self->link->alive;
	g_mutex_unlock (&self->link->lock);
	return alive;
}

virConnectPtr
nf_connection_ref_conn (NfConnection *self, GError **error)
{
	NfLink *link;
	virConnectPtr conn = NULL;
	gboolean opened;

	g_return_val_if_fail (NF_IS_CONNECTION (self), NULL);

	link = self->link;
	g_mutex_lock (&link->lock);
	opened = link->supervisor != NULL;
	/* In turn: the main connection, then each live spare. */
	for (guint k = 0; link->alive && conn == NULL && k <= NF_SPARE_CONNECTIONS; k++) {
		guint slot = link->turn++ % (NF_SPARE_CONNECTIONS + 1);
		virConnectPtr candidate = link->conn;

		if (slot > 0)
			candidate = link->spare_alive[slot - 1] ? link->spares[slot - 1] : NULL;
		if (candidate != NULL && virConnectRef (candidate) == 0)
			conn = candidate;
	}
	g_mutex_unlock (&link->lock);
	if (conn != NULL)
		return conn;

	if (opened)
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_LIBVIRT,
			     "Not connected to libvirt at %s: the connection was lost and nestfarm is reconnecting; try again shortly.",
			     self->uri);
	else
		g_set_error (error,
			     NF_ERROR,
			     NF_ERROR_LIBVIRT,
			     "Not connected to libvirt at %s: the connection is not open.",
			     self->uri);
	return NULL;
}

guint
nf_connection_count_open (NfConnection *self)
{
	NfLink *link;
	guint count = 0;

	g_return_val_if_fail (NF_IS_CONNECTION (self), 0);
	link = self->link;
	g_mutex_lock (&link->lock);
	if (link->alive) {
		count = 1;
		for (guint i = 0; i < NF_SPARE_CONNECTIONS; i++)
			count += link->spare_alive[i];
	}
	g_mutex_unlock (&link->lock);
	return count;
}

void
nf_connection_close (NfConnection *self)
{
	g_autoptr (GMutexLocker) locker = NULL;

	g_return_if_fail (NF_IS_CONNECTION (self));
	locker = g_mutex_locker_new (&self->control);
	link_stop (self->link, TRUE);
}

/* The generation of @conn if it is the link's connection or one of its
 * spares (which share its libvirtd, and so its gate); 0 if it is neither. */
static guint64
link_generation_of (NfLink *link, virConnectPtr conn)
{
	guint64 generation = 0;

	g_mutex_lock (&link->lock);
	/* The caller's reference keeps @conn's address from being reused,
	 * so equal pointers are the same connection. */
	if (link->conn == conn)
		generation = link->generation;
	for (guint i = 0; i < NF_SPARE_CONNECTIONS; i++) {
		if (link->spares[i] == conn)
			generation = link->generation;
	}
	g_mutex_unlock (&link->lock);
	return generation;
}

virDomainPtr
nf_connection_define_domain (NfConnection *self,
			     virConnectPtr conn,
			     const gchar *xml,
			     const gchar *name,
			     const gchar *shape,
			     GError **error)
{
	NfLink *link;
	guint64 generation;
	gboolean alone;
	virDomainPtr dom;

	g_return_val_if_fail (NF_IS_CONNECTION (self), NULL);
	g_return_val_if_fail (conn != NULL, NULL);
	g_return_val_if_fail (xml != NULL, NULL);
	g_return_val_if_fail (name != NULL, NULL);

	link = self->link;
	generation = link_generation_of (link, conn);
	if (shape != NULL && generation != 0 &&
	    nf_schema_gate_knows_shape (link->schema, generation, shape)) {
		/* libvirtd still parses it and checks what it means. */
		dom = virDomainDefineXMLFlags (conn, xml, 0);
	} else {
		/* A connection that is gone already needs no gate: it fails. */
		alone = generation != 0 && nf_schema_gate_enter (link->schema, generation);
		dom = virDomainDefineXMLFlags (conn, xml, VIR_DOMAIN_DEFINE_VALIDATE);
		if (alone)
			nf_schema_gate_leave (link->schema, generation, dom != NULL);
		if (dom != NULL && shape != NULL && generation != 0)
			nf_schema_gate_learn_shape (link->schema, generation, shape);
	}
	if (dom == NULL)
		nf_libvirt_set_error (error, "libvirt refused the domain of %s", name);
	return dom;
}
