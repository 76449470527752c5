/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-baseline"

#include "config.h"

#include "nestfarm/nf-cpu.h"
#include "nestfarm/nf-error.h"
#include "nestfarm/nf-tsan.h"
#include "nf-baseline.h"
#include "nf-farm-host.h"

/* The farm's CPU baseline, followed from the model's hosts (main thread)
 * and computed by libvirt in a worker that gets copies of the hosts'
 * CPUs and nothing of the model. */

struct _NfBaseline {
	GObject parent_instance;
	NfModel *model;
	NfEngine *engine;
	gchar *xml;
	gchar *model_name;
	gchar *problem;
	gchar *key;     /* the host CPUs the last computation was of */
	gboolean busy;  /* a computation runs */
	gboolean again; /* the hosts changed meanwhile */
	GCancellable *cancellable;
};

enum {
	PROP_0,
	PROP_MODEL,
	N_PROPS,
};

static GParamSpec *props[N_PROPS];

G_DEFINE_TYPE (NfBaseline, nf_baseline, G_TYPE_OBJECT)

static void
nf_baseline_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
	NfBaseline *self = NF_BASELINE (object);

	switch (prop_id) {
	case PROP_MODEL:
		g_value_set_string (value, self->model_name);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
	}
}

static void
nf_baseline_dispose (GObject *object)
{
	NfBaseline *self = NF_BASELINE (object);

	g_cancellable_cancel (self->cancellable);
	g_clear_object (&self->cancellable);
	g_clear_object (&self->model);
	g_clear_object (&self->engine);
	G_OBJECT_CLASS (nf_baseline_parent_class)->dispose (object);
}

static void
nf_baseline_finalize (GObject *object)
{
	NfBaseline *self = NF_BASELINE (object);

	g_free (self->xml);
	g_free (self->model_name);
	g_free (self->problem);
	g_free (self->key);
	G_OBJECT_CLASS (nf_baseline_parent_class)->finalize (object);
}

static void
nf_baseline_class_init (NfBaselineClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS (klass);

	object_class->get_property = nf_baseline_get_property;
	object_class->dispose = nf_baseline_dispose;
	object_class->finalize = nf_baseline_finalize;
	props[PROP_MODEL] =
		g_param_spec_string ("model", NULL, NULL, "", G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
	g_object_class_install_properties (object_class, N_PROPS, props);
}

static void
nf_baseline_init (NfBaseline *self)
{
	self->model_name = g_strdup ("");
	self->cancellable = g_cancellable_new ();
}

/* What the worker gets: copies only. */
typedef struct {
	NfEngine *engine;
	GStrv cpus;
} Work;

static void
work_free (Work *work)
{
	g_object_unref (work->engine);
	g_strfreev (work->cpus);
	g_free (work);
}

static void
compute_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
	Work *work = task_data;
	g_autoptr (NfHostInfo) host = NULL;
	g_autoptr (virConnect) conn = NULL;
	GError *error = NULL;
	gchar *xml;

	NF_TSAN_ACQUIRE (work);
	host = nf_engine_dup_host (work->engine);
	conn = nf_connection_ref_conn (nf_engine_get_connection (work->engine), &error);
	if (conn == NULL) {
		g_task_return_error (task, error);
		return;
	}
	xml = nf_cpu_baseline (conn,
			       host != NULL ? host->accel : NF_ACCEL_EMULATED,
			       (const gchar *const *) work->cpus,
			       &error);
	if (xml == NULL)
		g_task_return_error (task, error);
	else
		g_task_return_pointer (task, xml, g_free);
}

static void compute (NfBaseline *self);

static void
set_result (NfBaseline *self, gchar *xml, const GError *error)
{
	g_autofree gchar *model = xml != NULL ? nf_cpu_model (xml) : g_strdup ("");

	g_free (self->xml);
	self->xml = xml;
	g_free (self->problem);
	self->problem = error != NULL ? g_strdup (error->message) : NULL;
	if (error != NULL)
		g_message ("no CPU baseline for the farm: %s", error->message);
	else
		g_message ("the farm's CPU baseline is %s", model);
	if (g_strcmp0 (model, self->model_name) != 0) {
		g_free (self->model_name);
		self->model_name = g_steal_pointer (&model);
		g_object_notify_by_pspec (G_OBJECT (self), props[PROP_MODEL]);
	}
}

static void
compute_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
	NfBaseline *self = NF_BASELINE (source);
	g_autoptr (GError) error = NULL;
	gchar *xml = g_task_propagate_pointer (G_TASK (res), &error);

	if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return;
	self->busy = FALSE;
	set_result (self, xml, error);
	if (self->again) {
		self->again = FALSE;
		compute (self);
	}
}

/* The host-model CPUs of the online hosts, by host name. */
static GStrv
online_cpus (NfBaseline *self)
{
	g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
	g_autoptr (GList) hosts = nf_model_get_hosts (self->model);

	for (GList *l = hosts; l != NULL; l = l->next) {
		const gchar *cpu = nf_farm_host_get_host_cpu (l->data);

		if (nf_farm_host_get_state (l->data) != NF_HOST_STATE_OFFLINE && cpu != NULL)
			g_strv_builder_add (builder, cpu);
	}
	return g_strv_builder_end (builder);
}

static void
compute (NfBaseline *self)
{
	g_auto (GStrv) cpus = NULL;
	g_autofree gchar *key = NULL;
	g_autoptr (GTask) task = NULL;
	Work *work;

	if (self->busy) {
		self->again = TRUE;
		return;
	}
	cpus = online_cpus (self);
	key = g_strjoinv ("\n", cpus);
	if (g_strcmp0 (key, self->key) == 0)
		return;
	g_free (self->key);
	self->key = g_steal_pointer (&key);
	if (cpus[0] == NULL) {
		g_autoptr (GError) error =
			g_error_new_literal (NF_ERROR, NF_ERROR_BUSY, "No online host has told its CPU yet.");

		set_result (self, NULL, error);
		return;
	}
	work = g_new0 (Work, 1);
	work->engine = g_object_ref (self->engine);
	work->cpus = g_steal_pointer (&cpus);
	self->busy = TRUE;
	task = g_task_new (self, self->cancellable, compute_done, NULL);
	g_task_set_task_data (task, work, (GDestroyNotify) work_free);
	NF_TSAN_RELEASE (work);
	g_task_run_in_thread (task, compute_thread);
}

static void
host_changed (NfFarmHost *host, GParamSpec *pspec, NfBaseline *self)
{
	compute (self);
}

static void
host_added (NfModel *model, NfFarmHost *host, NfBaseline *self)
{
	g_signal_connect_object (host, "notify::state", G_CALLBACK (host_changed), self, 0);
	g_signal_connect_object (host, "notify::cpu-model", G_CALLBACK (host_changed), self, 0);
	compute (self);
}

static void
host_removed (NfModel *model, GObject *object, NfBaseline *self)
{
	compute (self);
}

NfBaseline *
nf_baseline_new (NfModel *model, NfEngine *engine)
{
	NfBaseline *self = g_object_new (NF_TYPE_BASELINE, NULL);
	g_autoptr (GList) hosts = nf_model_get_hosts (model);

	self->model = g_object_ref (model);
	self->engine = g_object_ref (engine);
	g_signal_connect_object (model, "host-added", G_CALLBACK (host_added), self, 0);
	g_signal_connect_object (model, "host-removed", G_CALLBACK (host_removed), self, 0);
	for (GList *l = hosts; l != NULL; l = l->next)
		host_added (model, l->data, self);
	return self;
}

const gchar *
nf_baseline_get_xml (NfBaseline *self)
{
	g_return_val_if_fail (NF_IS_BASELINE (self), NULL);
	return self->xml;
}

const gchar *
nf_baseline_get_model (NfBaseline *self)
{
	g_return_val_if_fail (NF_IS_BASELINE (self), "");
	return self->model_name;
}

const gchar *
nf_baseline_get_problem (NfBaseline *self)
{
	g_return_val_if_fail (NF_IS_BASELINE (self), NULL);
	return self->problem;
}
