/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

#include "nf-auth.h"
#include "nf-manager.h"

G_BEGIN_DECLS

/* The methods that change something, as one table: a row says how a
 * method's arguments are read and which manager call it makes; one function
 * takes every call through validate, authorize, act. */

/* What a skeleton is the object of, for its rows: a Pool's or Node's name
 * (a string), a Job's id (GUINT_TO_POINTER), as object data. */
#define NF_BUS_METHODS_KEY_NAME   "nf-name"
#define NF_BUS_METHODS_KEY_JOB_ID "nf-job-id"

/* Puts @skeleton behind the authorization gate (nf_auth_gate_skeleton ())
 * and connects each of its methods that has a row to the one dispatch.
 * Before @skeleton is exported. */
void nf_bus_methods_connect (GDBusInterfaceSkeleton *skeleton, NfManager *manager, NfAuth *auth);

G_END_DECLS
