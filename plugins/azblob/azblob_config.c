/* azblob_config: the keys of a [backend] section with plugin = azblob,
 * one by one (config) and together (config_complete).  No network here:
 * the daemon forks after config_complete.  AZURE_STORAGE_ACCOUNT,
 * AZURE_STORAGE_KEY and AZURE_STORAGE_SAS_TOKEN stand in for account,
 * account_key and sas_token when the section does not set them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "azblob.h"
#include "config_keys.h"
#include "crypto.h"
#include "objkey.h"

static int set_auth(const struct scopefs_host *h, enum az_auth_mode *out,
		    const char *value)
{
	static const char *const names[] = { "auto", "key", "sas", "msi" };

	for (int i = 0; i < 4; i++)
		if (strcmp(value, names[i]) == 0) {
			*out = (enum az_auth_mode)i;
			return 0;
		}
	h->set_error(h, "auth must be auto, key, sas or msi, not '%s'", value);
	return -EINVAL;
}

/* Account names: 3-24 lower-case letters and digits.  Containers: 3-63
 * of lower-case letters, digits and single '-'s. */
static int account_ok(const char *s)
{
	size_t n = strlen(s);

	return n >= 3 && n <= 24 && strspn(s, "abcdefghijklmnopqrstuvwxyz"
					      "0123456789") == n;
}

static int container_ok(const char *s)
{
	size_t n = strlen(s);

	return n >= 3 && n <= 63 &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == n &&
	       s[0] != '-' && s[n - 1] != '-' && !strstr(s, "--");
}

/* Each also as NAME_file, read from a file. */
static const char *const secrets[] = { "account_key", "sas_token", NULL };

int az_config_key(struct az_config *c, const char *key, const char *value)
{
	const struct scopefs_host *h = c->host;
	const char *name;
	char *secret;
	unsigned long u;
	int rc;

	if ((rc = ck_secret_key_file(h, key, value, secrets, &name,
				     &secret)) <= 0) {
		int inline_before = c->secret_inline;
		if (rc < 0)
			return rc;
		rc = az_config_key(c, name, secret);
		secret_free(secret);
		c->secret_inline = inline_before; /* not in this file */
		if (rc < 0)
			return rc;
		return ck_str(h, strcmp(name, "sas_token") == 0 ? &c->sas_file
							      : &c->key_file,
			      value);
	}
	if ((rc = ck_http_key(h, &c->http, key, value)) <= 0)
		return rc;
	if (strcmp(key, "account") == 0) {
		if (!account_ok(value)) {
			h->set_error(h, "account '%s' is not a storage account "
				     "name (3-24 lower-case letters and "
				     "digits)", value);
			return -EINVAL;
		}
		return ck_str(h, &c->account, value);
	}
	if (strcmp(key, "container") == 0) {
		if (!container_ok(value)) {
			h->set_error(h, "container '%s' is not a container "
				     "name (3-63 lower-case letters, digits "
				     "and '-')", value);
			return -EINVAL;
		}
		return ck_str(h, &c->container, value);
	}
	if (strcmp(key, "endpoint") == 0)
		return ck_url(h, key, &c->endpoint, value, 1);
	if (strcmp(key, "msi_endpoint") == 0)
		return ck_url(h, key, &c->msi_endpoint, value, 1);
	if (strcmp(key, "prefix") == 0)
		return ck_prefix(h, &c->prefix, value);
	if (strcmp(key, "auth") == 0)
		return set_auth(h, &c->auth, value);
	if (strcmp(key, "account_key") == 0) {
		size_t n;
		unsigned char *k = b64_decode(value, &n);
		if (!k || n == 0) {
			free(k);
			h->set_error(h, "account_key is not base64 (the key "
				     "as the portal shows it)");
			return -EINVAL;
		}
		free(k);
		c->secret_inline = 1;
		return ck_str(h, &c->account_key, value);
	}
	if (strcmp(key, "sas_token") == 0) {
		c->secret_inline = 1;
		return ck_str(h, &c->sas_token, value[0] == '?' ? value + 1
							      : value);
	}
	if (strcmp(key, "msi_client_id") == 0)
		return ck_str(h, &c->msi_client_id, value);
	if (strcmp(key, "list_page") == 0) {
		if ((rc = ck_uint(h, key, 1, AZ_LIST_PAGE, &u, value)) == 0)
			c->list_page = (uint32_t)u;
		return rc;
	}
	if (strcmp(key, "copy_timeout") == 0) {
		long ms;
		if ((rc = ck_seconds(h, key, &ms, value)) == 0)
			c->copy_timeout_s = (ms + 999) / 1000;
		return rc;
	}
	h->set_error(h, "unknown key '%s' (see scopefs --help for the azblob "
		     "plugin's keys)", key);
	return -EINVAL;
}

/* A section key, else the environment variable, else nothing. */
static int from_env(const struct scopefs_host *h, char **slot,
		    const char *var)
{
	const char *v = getenv(var);

	if (*slot || !v || !v[0])
		return 0;
	return ck_str(h, slot, v[0] == '?' ? v + 1 : v);
}

int az_config_complete(struct az_config *c)
{
	const struct scopefs_host *h = c->host;
	int rc;

	if (c->secret_inline &&
	    (rc = ck_secret_file(h, c->account_key ? "account_key"
						   : "sas_token")) < 0)
		return rc;
	int key_here = c->account_key != NULL, sas_here = c->sas_token != NULL;
	if ((rc = from_env(h, &c->account, "AZURE_STORAGE_ACCOUNT")) < 0 ||
	    (rc = from_env(h, &c->account_key, "AZURE_STORAGE_KEY")) < 0 ||
	    (rc = from_env(h, &c->sas_token, "AZURE_STORAGE_SAS_TOKEN")) < 0)
		return rc;
	if (!c->account) {
		h->set_error(h, "account is required (or AZURE_STORAGE_ACCOUNT)");
		return -EINVAL;
	}
	if (!c->container) {
		h->set_error(h, "container is required");
		return -EINVAL;
	}
	if (c->auth == AZ_AUTH_KEY && !c->account_key) {
		h->set_error(h, "auth = key needs account_key (or "
			     "AZURE_STORAGE_KEY)");
		return -EINVAL;
	}
	if (c->auth == AZ_AUTH_SAS && !c->sas_token) {
		h->set_error(h, "auth = sas needs sas_token (or "
			     "AZURE_STORAGE_SAS_TOKEN)");
		return -EINVAL;
	}
	if (c->account_key) {
		size_t n;
		unsigned char *k = b64_decode(c->account_key, &n);
		free(k);
		if (!k) {
			h->set_error(h, "AZURE_STORAGE_KEY is not base64");
			return -EINVAL;
		}
	}
	if (!c->endpoint) {
		char url[128];
		snprintf(url, sizeof url, "https://%s.blob.core.windows.net",
			 c->account);
		if ((rc = ck_str(h, &c->endpoint, url)) < 0)
			return rc;
	}
	/* where the credentials come from, as az_auth_open will choose */
	enum az_auth_mode mode = c->auth;
	if (mode == AZ_AUTH_AUTO)
		mode = c->account_key ? AZ_AUTH_KEY
		       : c->sas_token ? AZ_AUTH_SAS : AZ_AUTH_MSI;
	const char *file = mode == AZ_AUTH_KEY ? c->key_file : c->sas_file;
	int here = mode == AZ_AUTH_KEY ? key_here : sas_here;
	if (mode == AZ_AUTH_MSI)
		h->log(h, SCOPEFS_LOG_INFO, "credentials from the managed "
		       "identity%s%s, from %s when mounting",
		       c->msi_client_id ? " " : "",
		       c->msi_client_id ? c->msi_client_id : "",
		       c->msi_endpoint ? c->msi_endpoint
				       : "the instance metadata service");
	else
		h->log(h, SCOPEFS_LOG_INFO, "credentials from the %s %s%s",
		       mode == AZ_AUTH_KEY ? "account key" : "SAS token",
		       file ? "in " : here ? "in the section"
			    : mode == AZ_AUTH_KEY ? "of AZURE_STORAGE_KEY"
						  : "of AZURE_STORAGE_SAS_TOKEN",
		       file ? file : "");
	return 0;
}

void az_config_init(struct az_config *c, const struct scopefs_host *host)
{
	memset(c, 0, sizeof *c);
	c->host = host;
	c->prefix = strdup("");
	http_config_defaults(&c->http);
	c->list_page = AZ_LIST_PAGE;
	c->copy_timeout_s = 600;
}

void az_config_free(struct az_config *c)
{
	free(c->account);
	free(c->container);
	free(c->endpoint);
	free(c->prefix);
	free(c->msi_endpoint);
	free(c->msi_client_id);
	secret_free(c->account_key);
	secret_free(c->sas_token);
	free(c->key_file);
	free(c->sas_file);
	memset(c, 0, sizeof *c);
}
