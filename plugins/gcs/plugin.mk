# The gcs plugin: libcurl (plugins/common/http.c), json-c for the JSON
# API and the OAuth token answers, OpenSSL for the RS256 JWT of a service
# account.  plugins/common/plugin.mk names the shared sources.
gcs_SRCS = $(COMMON_HTTP_SRCS)
gcs_LIBS = $(COMMON_HTTP_LIBS)

# plugins/common's headers, libxml2's include directory (xml.h's RFC 3339
# times), hidden symbols (only the entry point and the JWT function its
# unit test calls are exported; see plugins/s3/plugin.mk for why).
$(OBJ)/plugins/gcs/%.o: CFLAGS += \
	-Iplugins/common $(shell pkg-config --cflags libxml-2.0) \
	-fvisibility=hidden
$(patsubst %.c,$(OBJ)/%.o,$(wildcard plugins/gcs/*.c)): $(wildcard plugins/gcs/*.h)
