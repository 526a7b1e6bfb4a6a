/*
 * azblob_auth: which credentials a mount signs with, first configured
 * wins with auth = auto (the default):
 *   1. key: account_key (or AZURE_STORAGE_KEY), SharedKey signatures;
 *   2. sas: sas_token (or AZURE_STORAGE_SAS_TOKEN), appended to every URL;
 *   3. msi: an Entra ID token for https://storage.azure.com/ from the
 *      instance metadata endpoint (msi_endpoint, msi_client_id), sent as
 *      a Bearer token and renewed five minutes before it expires.
 * auth = key / sas / msi uses that one only.
 */
#ifndef SCOPEFS_AZBLOB_AUTH_H
#define SCOPEFS_AZBLOB_AUTH_H

#include <stddef.h>

#include "azblob.h"

#pragma GCC visibility push(hidden) /* see plugin.mk */

#define AZ_MSI_ENDPOINT "http://169.254.169.254/metadata/identity/oauth2/token"

/* NULL with a one-sentence reason in err when nothing works (msi: the
 * first token is fetched here). */
struct az_auth *az_auth_open(const struct az_config *cfg,
			     struct http_pool *http, char *err, size_t errlen);
void az_auth_close(struct az_auth *a);

enum az_auth_mode az_auth_mode(const struct az_auth *a);
/* key: the decoded account key. */
const unsigned char *az_auth_key(const struct az_auth *a, size_t *len);
/* sas: the token, "name=value&..." without '?'. */
const char *az_auth_sas(const struct az_auth *a);
/* msi: a malloc'd copy of the current token (free with secret_free). */
int az_auth_bearer(struct az_auth *a, char **token);
/* "account key", "SAS token", "managed identity (ENDPOINT's origin)". */
const char *az_auth_source(const struct az_auth *a);

#pragma GCC visibility pop

#endif
