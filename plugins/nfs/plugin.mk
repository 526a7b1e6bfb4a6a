# The nfs plugin: libnfs (Debian libnfs-dev 4.0, NFSv3) and
# plugins/common's key parsing (whose prefix check is objkey's).
nfs_SRCS = plugins/common/config_keys.c plugins/common/objkey.c \
	plugins/common/strbuf.c
nfs_LIBS = $(shell pkg-config --libs libnfs 2>/dev/null) -lpthread

# For our objects only: plugins/common's headers (config_keys.h includes
# http.h, hence curl's), libnfs's, and hidden symbols, so that only the
# entry point is exported.
$(OBJ)/plugins/nfs/%.o: CFLAGS += -Iplugins/common \
	$(shell pkg-config --cflags libnfs 2>/dev/null) -fvisibility=hidden
$(patsubst %.c,$(OBJ)/%.o,$(wildcard plugins/nfs/*.c)): $(wildcard plugins/nfs/*.h)
