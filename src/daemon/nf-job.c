/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "nf-job"

#include "config.h"

#include "nestfarm/nf-error.h"
#include "nf-job.h"

/* NfJob: a long operation's progress, step, outcome and cancellable, as its
 * Job object on the bus shows them. */

struct _NfJob {
	GObject parent_instance;
	guint id;
	gchar *operation;
	GPtrArray *objects; /* NULL-terminated */
	gdouble progress;
	gchar *step;
	NfJobState state;
	gchar *error;
	gchar *error_name; /* org.nestfarm.Farm1.Error.* of a failed job */
	guint uid;
	GCancellable *cancellable;
	gint64 completed_at; /* monotonic, 0 while running */
};

enum {
	PROP_0,
	PROP_ID,
	PROP_OPERATION,
	PROP_OBJECTS,
	PROP_PROGRESS,
	PROP_STEP,
	PROP_STATE,
	PROP_ERROR,
	PROP_ERROR_NAME,
	PROP_UID,
	N_PROPS
};
static GParamSpec *props[N_PROPS];

enum { SIGNAL_COMPLETED, N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_TYPE (NfJob, nf_job, G_TYPE_OBJECT)

static void
nf_job_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
	NfJob *self = NF_JOB (object);

	switch (prop_id) {
	case PROP_ID:
		g_value_set_uint (value, self->id);
		break;
	case PROP_OPERATION:
		g_value_set_string (value, self->operation);
		break;
	case PROP_OBJECTS:
		g_value_set_boxed (value, self->objects->pdata);
		break;
	case PROP_PROGRESS:
		g_value_set_double (value, self->progress);
		break;
	case PROP_STEP:
		g_value_set_string (value, self->step);
		break;
	case PROP_STATE:
		g_value_set_string (value, nf_job_state_to_string (self->state));
		break;
	case PROP_ERROR:
		g_value_set_string (value, self->error);
		break;
	case PROP_ERROR_NAME:
		g_value_set_string (value, self->error_name);
		break;
	case PROP_UID:
		g_value_set_uint (value, self->uid);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
	}
}

static void
nf_job_finalize (GObject *object)
{
	NfJob *self = NF_JOB (object);

	g_free (self->operation);
	g_ptr_array_unref (self->objects);
	g_free (self->step);
	g_free (self->error);
	g_free (self->error_name);
	g_object_unref (self->cancellable);
	G_OBJECT_CLASS (nf_job_parent_class)->finalize (object);
}

static void
nf_job_class_init (NfJobClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS (klass);
	const GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;

	object_class->get_property = nf_job_get_property;
	object_class->finalize = nf_job_finalize;

	props[PROP_ID] = g_param_spec_uint ("id", NULL, NULL, 0, G_MAXUINT, 0, ro);
	props[PROP_OPERATION] = g_param_spec_string ("operation", NULL, NULL, "", ro);
	props[PROP_OBJECTS] = g_param_spec_boxed ("objects", NULL, NULL, G_TYPE_STRV, ro);
	props[PROP_PROGRESS] = g_param_spec_double ("progress", NULL, NULL, 0, 1, 0, ro);
	props[PROP_STEP] = g_param_spec_string ("step", NULL, NULL, "", ro);
	props[PROP_STATE] =
		g_param_spec_string ("state", NULL, NULL, nf_job_state_to_string (NF_JOB_STATE_RUNNING), ro);
	props[PROP_ERROR] = g_param_spec_string ("error", NULL, NULL, "", ro);
	props[PROP_ERROR_NAME] = g_param_spec_string ("error-name", NULL, NULL, "", ro);
	props[PROP_UID] = g_param_spec_uint ("uid", NULL, NULL, 0, G_MAXUINT, 0, ro);
	g_object_class_install_properties (object_class, N_PROPS, props);

	signals[SIGNAL_COMPLETED] = g_signal_new ("completed",
						  G_TYPE_FROM_CLASS (klass),
						  G_SIGNAL_RUN_LAST,
						  0,
						  NULL,
						  NULL,
						  NULL,
						  G_TYPE_NONE,
						  2,
						  G_TYPE_BOOLEAN,
						  G_TYPE_STRING);
}

static void
nf_job_init (NfJob *self)
{
	self->objects = g_ptr_array_new_with_free_func (g_free);
	g_ptr_array_add (self->objects, NULL);
	self->step = g_strdup ("");
	self->error = g_strdup ("");
	self->error_name = g_strdup ("");
	self->cancellable = g_cancellable_new ();
}

NfJob *
nf_job_new (guint id, const gchar *operation, guint uid)
{
	NfJob *self = g_object_new (NF_TYPE_JOB, NULL);

	self->id = id;
	self->operation = g_strdup (operation);
	self->uid = uid;
	return self;
}

guint
nf_job_get_id (NfJob *self)
{
	g_return_val_if_fail (NF_IS_JOB (self), 0);
	return self->id;
}

const gchar *
nf_job_get_operation (NfJob *self)
{
	g_return_val_if_fail (NF_IS_JOB (self), NULL);
	return self->operation;
}

const gchar *const *
nf_job_get_objects (NfJob *self)
{
	g_return_val_if_fail (NF_IS_JOB (self), NULL);
	return (const gchar *const *) self->objects->pdata;
}

void
nf_job_add_object (NfJob *self, const gchar *object)
{
	g_return_if_fail (NF_IS_JOB (self));

	for (guint i = 0; i + 1 < self->objects->len; i++) {
		if (g_strcmp0 (g_ptr_array_index (self->objects, i), object) == 0)
			return;
	}
	g_ptr_array_insert (self->objects, (gint) self->objects->len - 1, g_strdup (object));
	g_object_notify_by_pspec (G_OBJECT (self), props[PROP_OBJECTS]);
}

gdouble
nf_job_get_progress (NfJob *self)
{
	g_return_val_if_fail (NF_IS_JOB (self), 0);
	return self->progress;
}

void
nf_job_set_progress (NfJob *self, gdouble progress)
{
	g_return_if_fail (NF_IS_JOB (self));

	progress = CLAMP (progress, 0.0, 1.0);
	if (progress == self->progress)
		return;
	self->progress = progress;
	g_object_notify_by_pspec (G_OBJECT (self), props[PROP_PROGRESS]);
}

const gchar *
nf_job_get_step (NfJob *self)
{
	g_return_val_if_fail (NF_IS_JOB (self), NULL);
	return self->step;
}

void
nf_job_set_step (NfJob *self, const gchar *step)
{
	g_return_if_fail (NF_IS_JOB (self));

	if (g_strcmp0 (self->step, step) == 0)
		return;
	g_free (self->step);
	self->step = g_strdup (step != NULL ? step : "");
	g_object_notify_by_pspec (G_OBJECT (self), props[PROP_STEP]);
}

NfJobState
nf_job_get_state (NfJob *self)
{
	g_return_val_if_fail (NF_IS_JOB (self), NF_JOB_STATE_FAILED);
	return self->state;
}

const gchar *
nf_job_get_error (NfJob *self)
{
	g_return_val_if_fail (NF_IS_JOB (self), NULL);
	return self->error;
}

guint
nf_job_get_uid (NfJob *self)
{
	g_return_val_if_fail (NF_IS_JOB (self), 0);
	return self->uid;
}

GCancellable *
nf_job_get_cancellable (NfJob *self)
{
	g_return_val_if_fail (NF_IS_JOB (self), NULL);
	return self->cancellable;
}

void
nf_job_cancel (NfJob *self)
{
	g_return_if_fail (NF_IS_JOB (self));
	if (self->state == NF_JOB_STATE_RUNNING)
		g_cancellable_cancel (self->cancellable);
}

gboolean
nf_job_is_done (NfJob *self)
{
	g_return_val_if_fail (NF_IS_JOB (self), TRUE);
	return self->state != NF_JOB_STATE_RUNNING;
}

gint64
nf_job_get_completed_at (NfJob *self)
{
	g_return_val_if_fail (NF_IS_JOB (self), 0);
	return self->completed_at;
}

/* The D-Bus error a method would have returned for @error: a job's
 * failure says which kind it was, as a reply would. */
static const gchar *
error_name (const GError *error, NfJobState state)
{
	if (state == NF_JOB_STATE_CANCELLED)
		return nf_error_to_dbus_name (NF_ERROR_CANCELLED);
	if (error->domain == NF_ERROR)
		return nf_error_to_dbus_name ((NfError) error->code);
	return nf_error_to_dbus_name (NF_ERROR_FAILED);
}

const gchar *
nf_job_get_error_name (NfJob *self)
{
	g_return_val_if_fail (NF_IS_JOB (self), NULL);
	return self->error_name;
}

void
nf_job_complete (NfJob *self, const GError *error)
{
	g_return_if_fail (NF_IS_JOB (self));
	g_return_if_fail (self->state == NF_JOB_STATE_RUNNING);

	if (error == NULL) {
		self->state = NF_JOB_STATE_SUCCEEDED;
		nf_job_set_progress (self, 1.0);
	} else {
		self->state = g_error_matches (error, NF_ERROR, NF_ERROR_CANCELLED) ||
					      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
				      ? NF_JOB_STATE_CANCELLED
				      : NF_JOB_STATE_FAILED;
		g_free (self->error);
		self->error = g_strdup (error->message);
		g_free (self->error_name);
		self->error_name = g_strdup (error_name (error, self->state));
		g_object_notify_by_pspec (G_OBJECT (self), props[PROP_ERROR]);
		g_object_notify_by_pspec (G_OBJECT (self), props[PROP_ERROR_NAME]);
	}
	self->completed_at = g_get_monotonic_time ();
	g_object_notify_by_pspec (G_OBJECT (self), props[PROP_STATE]);
	g_signal_emit (self, signals[SIGNAL_COMPLETED], 0, error == NULL, error != NULL ? error->message : "");
}
