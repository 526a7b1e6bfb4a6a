/* azblob_auth: the credential chain (see azblob_auth.h). */
#include "azblob_auth.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>

#include "crypto.h"
#include "strbuf.h"
#include "token.h"

#define MSI_TIMEOUT_MS 2000
#define MSI_RESOURCE "https://storage.azure.com/"

struct az_auth {
	enum az_auth_mode mode;
	unsigned char *key;
	size_t keylen;
	const char *sas; /* the config's */
	struct token_source *token;
	char source[300];
};

static struct token_source *msi_open(const struct az_config *cfg,
				     struct http_pool *http, char *err,
				     size_t errlen)
{
	struct strbuf url = STRBUF_INIT;
	const char *ep = cfg->msi_endpoint ? cfg->msi_endpoint
					   : AZ_MSI_ENDPOINT;
	struct token_source *t = NULL;

	sb_add(&url, ep);
	sb_add(&url, strchr(ep, '?') ? "&" : "?");
	sb_add(&url, "api-version=2018-02-01&resource=");
	sb_add_uri_encoded(&url, MSI_RESOURCE, 0);
	if (cfg->msi_client_id) {
		sb_add(&url, "&client_id=");
		sb_add_uri_encoded(&url, cfg->msi_client_id, 0);
	}
	if (url.oom)
		snprintf(err, errlen, "out of memory");
	else
		t = token_source_open(cfg->host, http, url.s, "Metadata: true",
				      MSI_TIMEOUT_MS, err, errlen);
	sb_free(&url);
	return t;
}

struct az_auth *az_auth_open(const struct az_config *cfg,
			     struct http_pool *http, char *err, size_t errlen)
{
	struct az_auth *a = calloc(1, sizeof *a);
	enum az_auth_mode mode = cfg->auth;
	char why[600], origin[256];

	if (!a) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (mode == AZ_AUTH_AUTO)
		mode = cfg->account_key ? AZ_AUTH_KEY
		       : cfg->sas_token ? AZ_AUTH_SAS
					: AZ_AUTH_MSI;
	a->mode = mode;
	switch (mode) {
	case AZ_AUTH_KEY:
		a->key = b64_decode(cfg->account_key, &a->keylen);
		if (!a->key)
			goto fail_oom;
		snprintf(a->source, sizeof a->source, "account key%s%.120s",
			 cfg->key_file ? " from " : "",
			 cfg->key_file ? cfg->key_file : "");
		break;
	case AZ_AUTH_SAS:
		a->sas = cfg->sas_token;
		snprintf(a->source, sizeof a->source, "SAS token%s%.120s",
			 cfg->sas_file ? " from " : "",
			 cfg->sas_file ? cfg->sas_file : "");
		break;
	default:
		a->token = msi_open(cfg, http, why, sizeof why);
		if (!a->token) {
			snprintf(err, errlen, "%s%s", cfg->auth == AZ_AUTH_AUTO
				 ? "no credentials: set account_key "
				   "(AZURE_STORAGE_KEY) or sas_token "
				   "(AZURE_STORAGE_SAS_TOKEN); no managed "
				   "identity either: " : "managed identity: ",
				 why);
			az_auth_close(a);
			return NULL;
		}
		http_url_origin(cfg->msi_endpoint ? cfg->msi_endpoint
						  : AZ_MSI_ENDPOINT,
				origin, sizeof origin);
		snprintf(a->source, sizeof a->source,
			 "managed identity (%s)", origin);
		break;
	}
	return a;
fail_oom:
	snprintf(err, errlen, "out of memory");
	az_auth_close(a);
	return NULL;
}

void az_auth_close(struct az_auth *a)
{
	if (!a)
		return;
	if (a->key) {
		OPENSSL_cleanse(a->key, a->keylen);
		free(a->key);
	}
	token_source_close(a->token);
	free(a);
}

enum az_auth_mode az_auth_mode(const struct az_auth *a)
{
	return a->mode;
}

const unsigned char *az_auth_key(const struct az_auth *a, size_t *len)
{
	*len = a->keylen;
	return a->key;
}

const char *az_auth_sas(const struct az_auth *a)
{
	return a->sas;
}

int az_auth_bearer(struct az_auth *a, char **token)
{
	return token_source_get(a->token, token);
}

const char *az_auth_source(const struct az_auth *a)
{
	return a->source;
}
