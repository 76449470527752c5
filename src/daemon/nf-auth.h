/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Who may call which method: the table, the gate every skeleton's dispatch
 * goes through, and the caller's check a method's handler makes, after
 * validation, before the call does anything. */

/* The one polkit action: every method that changes anything needs it. */
#define NF_AUTH_ACTION_MANAGE "org.nestfarm.farm1.manage"

/* The caller's uid when it was not looked up (open methods). */
#define NF_AUTH_UID_UNKNOWN G_MAXUINT

typedef enum {
	NF_AUTH_POLKIT,        /* system bus: polkit decides for the calling bus name */
	NF_AUTH_SESSION_OWNER, /* --session: only the daemon's own user, polkit is not asked */
} NfAuthMode;

/* One line of the table: @action NULL means open to every caller. A table
 * ends with a line of NULLs. */
typedef struct {
	const gchar *interface_name;
	const gchar *method_name;
	const gchar *action;
} NfAuthRule;

#define NF_TYPE_AUTH (nf_auth_get_type ())
G_DECLARE_FINAL_TYPE (NfAuth, nf_auth, NF, AUTH, GObject)

NfAuth *nf_auth_new (NfAuthMode mode, GError **error);
NfAuthMode nf_auth_get_mode (NfAuth *self);

/* polkit lives on the system bus: when that bus goes away, its handle is
 * dead. Forget it, then, once the bus is back, get a new one (asynchronously;
 * a no-op in session mode or while the handle is still held). Checks made
 * without a handle are refused with NF_ERROR_NOT_AUTHORIZED. */
void nf_auth_forget_polkit (NfAuth *self);
void nf_auth_reach_polkit_async (NfAuth *self, GAsyncReadyCallback callback, gpointer user_data);
gboolean nf_auth_reach_polkit_finish (NfAuth *self, GAsyncResult *result, GError **error);

/* Checks the caller of @invocation, after its arguments are validated.
 * A method the table does not list is refused. Refusals, and a caller that
 * left the bus meanwhile, are NF_ERROR_NOT_AUTHORIZED; a cancelled check is
 * G_IO_ERROR_CANCELLED. @caller_uid is NF_AUTH_UID_UNKNOWN for open methods. */
void nf_auth_check_async (NfAuth *self,
			  GDBusMethodInvocation *invocation,
			  GCancellable *cancellable,
			  GAsyncReadyCallback callback,
			  gpointer user_data);
gboolean nf_auth_check_finish (NfAuth *self, GAsyncResult *result, guint *caller_uid, GError **error);

/* The table itself: TRUE when it lists the method; @action is then the
 * polkit action, or NULL for an open method. */
gboolean nf_auth_lookup (const gchar *interface_name, const gchar *method_name, const gchar **action);
const NfAuthRule *nf_auth_get_rules (gsize *n_rules);
/* The same lookup in any table (@rules ends with a line of NULLs). */
gboolean nf_auth_rules_lookup (const NfAuthRule *rules,
			       const gchar *interface_name,
			       const gchar *method_name,
			       const gchar **action);

/* The gate (bolt's bouncer): a g-authorize-method handler, @rules its data.
 * A method @rules does not list is refused right there with
 * NF_ERROR_NOT_AUTHORIZED, and no handler runs; a listed one goes on to its
 * handler, which validates the arguments and then asks
 * nf_auth_check_async (). The gate looks at the method only, never at the
 * caller, so it decides nothing before validation that validation should
 * answer first. GDBus emits the signal in a worker thread: @rules must not
 * change. */
gboolean nf_auth_gate_method (GDBusInterfaceSkeleton *skeleton,
			      GDBusMethodInvocation *invocation,
			      const NfAuthRule *rules);
/* Puts @skeleton's methods behind the gate, with the daemon's table; before
 * it is exported. */
void nf_auth_gate_skeleton (GDBusInterfaceSkeleton *skeleton);

G_END_DECLS
