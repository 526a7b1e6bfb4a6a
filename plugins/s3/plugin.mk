# The s3 plugin: libcurl (through plugins/common/http.c), OpenSSL for
# SigV4, libxml2 for S3's XML, inih for ~/.aws/credentials, json-c for
# the instance metadata service.  plugins/common/plugin.mk names the
# shared sources.
s3_SRCS = $(COMMON_HTTP_SRCS)
s3_LIBS = $(COMMON_HTTP_LIBS) -linih

# For our objects only: plugins/common's headers, libxml2's include
# directory, and hidden symbols.  Only the entry point (and the SigV4
# functions its unit test calls) is exported, so that no name of ours
# can collide with another library's in the daemon.
$(OBJ)/plugins/s3/%.o: CFLAGS += \
	-Iplugins/common $(shell pkg-config --cflags libxml-2.0) \
	-fvisibility=hidden
# The Makefile's object rule knows the core's headers, not ours.
$(patsubst %.c,$(OBJ)/%.o,$(wildcard plugins/s3/*.c)): $(wildcard plugins/s3/*.h)
