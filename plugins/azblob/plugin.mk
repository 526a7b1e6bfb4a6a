# The azblob plugin: libcurl (plugins/common/http.c), OpenSSL for
# SharedKey, libxml2 for Azure's XML, json-c for managed-identity tokens.
# plugins/common/plugin.mk names the shared sources.
azblob_SRCS = $(COMMON_HTTP_SRCS)
azblob_LIBS = $(COMMON_HTTP_LIBS)

# plugins/common's headers, libxml2's include directory, hidden symbols
# (only the entry point and the SharedKey functions its unit test calls
# are exported; see plugins/s3/plugin.mk for why).
$(OBJ)/plugins/azblob/%.o: CFLAGS += \
	-Iplugins/common $(shell pkg-config --cflags libxml-2.0) \
	-fvisibility=hidden
$(patsubst %.c,$(OBJ)/%.o,$(wildcard plugins/azblob/*.c)): $(wildcard plugins/azblob/*.h)
