# plugins/common: code the HTTP object plugins (s3, azblob) link in.  Not a
# plugin itself (the Makefile leaves "common" out of PLUGINS); this file
# only names its sources and flags for the plugins' plugin.mk files.
COMMON_HTTP_SRCS := plugins/common/http.c plugins/common/strbuf.c \
	plugins/common/crypto.c plugins/common/config_keys.c \
	plugins/common/objkey.c plugins/common/xml.c \
	plugins/common/meta_headers.c plugins/common/parts.c \
	plugins/common/objlist.c plugins/common/token.c \
	plugins/common/skew.c
COMMON_HTTP_LIBS := -lcurl -lcrypto -lxml2 -ljson-c -lpthread

# Plugin-internal symbols stay hidden (only the entry point is the ABI);
# libxml2's include directory for xml.c.
$(OBJ)/plugins/common/%.o: CFLAGS += \
	$(shell pkg-config --cflags libxml-2.0) -fvisibility=hidden
$(patsubst %.c,$(OBJ)/%.o,$(COMMON_HTTP_SRCS)): $(wildcard plugins/common/*.h)
