/*
 * test_persistence: per-workload persistence as the platform defines it,
 * end to end on the local backend.  The identity reaches the config the
 * way it does on a VM: environment variables named in [identity] with
 * ${VAR} (on a service, from the EnvironmentFile written at boot).
 *
 * A workspace's cluster_storage survives the workspace's cluster
 * restarts (same workload id, same prefix); each job run gets a fresh
 * one; user_storage follows the user across all of them, and
 * shared_storage the whole cloud.  Each "cluster" below is a daemon
 * started with one identity and stopped again.
 */
#include "mount_fixture.h"

TestSuite(persistence, .fini = fx_teardown, .timeout = 120);

static const char *const scopes[] = { "cluster_storage", "user_storage",
				      "shared_storage" };
static const char *const scope_keys[] = { "cluster", "user", "cloud" };

static void write_conf(void)
{
	FILE *f = fopen(fx.conf, "w");
	cr_assert(f, "%s: %s", fx.conf, strerror(errno));
	fprintf(f, "[scopefs]\nlog_level = info\n\n"
		   "[identity]\ncloud_id = ${T_CLOUD_ID}\n"
		   "user_id = ${T_USER_ID}\nworkload = ${T_WORKLOAD}\n"
		   "workload_id = ${T_WORKLOAD_ID}\n\n"
		   "[backend default]\nplugin = local\nroot = %s/data\n",
		fx.dir);
	for (int i = 0; i < 3; i++)
		fprintf(f, "\n[mount %s/mnt/%s]\nbackend = default\n"
			   "scope = %s\n", fx.dir, scopes[i], scope_keys[i]);
	fclose(f);
	for (int i = 0; i < 3; i++) {
		snprintf(fx.mnt[i], sizeof fx.mnt[i], "%s/mnt/%s", fx.dir,
			 scopes[i]);
		mkdir(fx.mnt[i], 0755);
	}
	fx.nmounts = 3;
}

/* A cluster of WORKLOAD WORKLOAD_ID for USER comes up: the daemon with
 * that identity in its environment, every mount up. */
static void cluster_up(const char *workload, const char *workload_id,
		       const char *user)
{
	setenv("T_CLOUD_ID", "cld_1", 1);
	setenv("T_USER_ID", user, 1);
	setenv("T_WORKLOAD", workload, 1);
	setenv("T_WORKLOAD_ID", workload_id, 1);
	fx_launch(NULL);
}

static void cluster_down(void)
{
	fx_stop();
	fx.stopped = 0;
	FX_ASSERT(WIFEXITED(fx.status) && WEXITSTATUS(fx.status) == 0,
		  "expected the daemon to exit 0 on SIGTERM, saw %s",
		  fx_status_str(fx.status));
}

static int exists(int scope, const char *name)
{
	struct stat st;
	return lstat(fx_fmt("%s/%s", fx.mnt[scope], name), &st) == 0;
}

Test(persistence, workspace_storage_survives_restarts_and_job_runs_start_fresh)
{
	fx_prepare_dir();
	write_conf();

	/* a workspace's cluster: one file in each scope */
	cluster_up("workspace", "expwks_1", "usr_a");
	FX_OK(fx_write_file(fx_mpath(0, "notebook.ipynb"), "nb", 2, 0644));
	FX_OK(fx_write_file(fx_mpath(1, "model.pt"), "weights", 7, 0644));
	FX_OK(fx_write_file(fx_mpath(2, "dataset.csv"), "a,b", 3, 0644));
	cluster_down();

	/* the same workspace restarted: all three are still there */
	cluster_up("workspace", "expwks_1", "usr_a");
	FX_ASSERT(exists(0, "notebook.ipynb"), "the workspace's "
		  "cluster_storage lost its file across a restart");
	FX_ASSERT(exists(1, "model.pt") && exists(2, "dataset.csv"),
		  "user or shared storage lost a file across a restart");
	cluster_down();

	/* a job run by the same user: a fresh cluster_storage, the same
	 * user_storage and shared_storage */
	cluster_up("job", "prodjob_1", "usr_a");
	FX_ASSERT(!exists(0, "notebook.ipynb"), "a job's cluster_storage "
		  "shows the workspace's file");
	FX_ASSERT(exists(1, "model.pt"), "the job does not see its user's "
		  "user_storage");
	FX_ASSERT(exists(2, "dataset.csv"), "the job does not see "
		  "shared_storage");
	FX_OK(fx_write_file(fx_mpath(0, "checkpoint"), "c", 1, 0644));
	cluster_down();

	/* the next job run: fresh again */
	cluster_up("job", "prodjob_2", "usr_a");
	FX_ASSERT(!exists(0, "checkpoint"), "a new job run's cluster_storage "
		  "shows the previous run's file");
	cluster_down();

	/* another user's service: its own user_storage, the same cloud */
	cluster_up("service", "service2_1", "usr_b");
	FX_ASSERT(!exists(1, "model.pt"), "user usr_b sees usr_a's "
		  "user_storage");
	FX_ASSERT(exists(2, "dataset.csv"), "shared_storage is not shared "
		  "across users");
	cluster_down();

	/* and where it all is in the store, as the platform names it */
	static const char *const where[] = {
		"workspaces/expwks_1/cluster_storage/notebook.ipynb",
		"job/prodjob_1/cluster_storage/checkpoint",
		"user_storage/usr_a/model.pt",
		"shared_storage/dataset.csv",
	};
	for (size_t i = 0; i < sizeof where / sizeof *where; i++) {
		struct stat st;
		FX_ASSERT(lstat(fx_fmt("%s/data/%s", fx.dir, where[i]), &st) ==
				  0, "expected %s under the backend's root: %s",
			  where[i], strerror(errno));
	}
	struct stat st;
	FX_ASSERT(lstat(fx_fmt("%s/data/job/prodjob_2/cluster_storage",
			       fx.dir), &st) == 0 && S_ISDIR(st.st_mode),
		  "the second job run's prefix was not made");
}
